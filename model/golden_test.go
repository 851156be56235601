package model

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// goldenTol is the agreement ARCHITECTURE.md asks of the CPU network and
// PyTorch: relative error ‖a − b‖/‖b‖ per sample.
const goldenTol = 1e-4

// goldenRoot is where train/test_pipeline.sh writes the golden fixtures,
// one folder per tiny config (golden.safetensors, model-f32.safetensors,
// model-int8.safetensors): tiny has attention, tiny-local none (mid_attn
// false, the photo prior's shape).
func goldenRoot() string {
	if d := os.Getenv("CONJURE_GOLDEN_DIR"); d != "" {
		return d
	}
	return "testdata"
}

// TestGolden reproduces PyTorch's ε and VJP (NETWORK.md, "Golden file")
// with the f32 weights and with the int8 weights, for each tiny config.
// Without the fixtures it skips, except under CI=true, where a missing
// fixture is a failure.
func TestGolden(t *testing.T) {
	for _, name := range []string{"tiny", "tiny-local"} {
		t.Run(name, func(t *testing.T) { testGolden(t, filepath.Join(goldenRoot(), name)) })
	}
}

func testGolden(t *testing.T, dir string) {
	path := filepath.Join(dir, "golden.safetensors")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		msg := "no golden fixture at " + path + ": train/ writes it with PyTorch (set CONJURE_GOLDEN_DIR to use another directory)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, ts, err := readSafetensors(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Logf("golden metadata: %v", meta)
	get := func(name string) ([]float32, []int) {
		st, ok := ts[name]
		if !ok || st.dtype != dtypeF32 {
			t.Fatalf("%s: no F32 tensor %q", path, name)
		}
		return float32s(st.data), st.shape
	}
	x, xs := get("x")
	tau, taus := get("tau")
	v, vs := get("v")
	if len(xs) != 4 || !slices.Equal(vs, xs) || !slices.Equal(taus, xs[:1]) {
		t.Fatalf("%s: shapes x %v, tau %v, v %v; want (n, C, R, R), (n,), (n, C, R, R)", path, xs, taus, vs)
	}
	n, dim := xs[0], xs[1]*xs[2]*xs[3]
	for _, c := range []struct{ weights, format, eps, vjp string }{
		{"model-f32.safetensors", FormatF32, "eps_f32", "vjp_f32"},
		{"model-int8.safetensors", FormatInt8, "eps_int8", "vjp_int8"},
	} {
		t.Run(c.format, func(t *testing.T) {
			m, err := Load(filepath.Join(dir, c.weights))
			if err != nil {
				t.Fatal(err)
			}
			cfg := m.Config()
			if m.Format() != c.format || !slices.Equal(xs[1:], []int{cfg.InChannels, cfg.Resolution, cfg.Resolution}) {
				t.Fatalf("%s: format %s, config %+v; golden x has shape %v", c.weights, m.Format(), cfg, xs)
			}
			wantEps, es := get(c.eps)
			wantVJP, js := get(c.vjp)
			if !slices.Equal(es, xs) || !slices.Equal(js, xs) {
				t.Fatalf("shapes %s %v, %s %v; want %v", c.eps, es, c.vjp, js, xs)
			}
			r := m.NewRunner()
			eps, g := make([]float64, dim), make([]float64, dim)
			for k := range n {
				sample := func(a []float32) []float64 { return to64(a[k*dim : (k+1)*dim]) }
				r.Eps(eps, sample(x), float64(tau[k]))
				r.VJP(g, sample(v))
				ee, ev := relErr(eps, sample(wantEps)), relErr(g, sample(wantVJP))
				t.Logf("sample %d (τ = %g): relative error ε %.2g, VJP %.2g", k, tau[k], ee, ev)
				if ee > goldenTol || ev > goldenTol {
					t.Errorf("sample %d (τ = %g): relative error ε %.3g, VJP %.3g; want ≤ %g", k, tau[k], ee, ev, goldenTol)
				}
			}
		})
	}
}
