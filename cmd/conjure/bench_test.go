package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"conjure/model"
)

// writeTinyModel saves a small int8 random model with every kind of block
// and returns its path.
func writeTinyModel(t *testing.T) string {
	t.Helper()
	return writeModel(t, model.Config{
		Resolution: 16, InChannels: 3, Channels: 6, Mult: []int{1, 2}, ResBlocks: 1,
		AttnResolutions: []int{8}, Groups: 2, Heads: 2, TimeScale: 1000,
	})
}

// writeModel writes an int8 model of cfg with seeded random weights to a
// temporary file and returns its path.
func writeModel(t *testing.T, cfg model.Config) string {
	t.Helper()
	f, err := model.NewRandom(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tiny.safetensors")
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := f.Quantize().WriteTo(out); err != nil {
		t.Fatal(err)
	}
	return p
}

// runBenchJSON runs bench --json with args on cpu,gpu, or on the CPU only
// when the machine has no WebGPU adapter (never under CI=true, where
// lavapipe is installed), and returns the backends and the output.
func runBenchJSON(t *testing.T, args ...string) (backends, stdout string) {
	t.Helper()
	backends = "cpu,gpu"
	code, stdout, stderr := runCLI(t, append([]string{"bench", "--json", "--backend", backends}, args...)...)
	if code != 0 && strings.Contains(stderr, errNoAdapter.Error()) && os.Getenv("CI") != "true" {
		t.Logf("no WebGPU adapter: benching the CPU only")
		backends = "cpu"
		code, stdout, stderr = runCLI(t, append([]string{"bench", "--json", "--backend", backends}, args...)...)
	}
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	return backends, stdout
}

func TestBenchJSON(t *testing.T) {
	backends, stdout := runBenchJSON(t, "--model", writeTinyModel(t), "--steps", "2", "--repeat", "1")
	var r benchReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, stdout)
	}
	gpuToo := strings.Contains(backends, "gpu")
	finite := func(what string, v float64, positive bool) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || positive && v == 0 {
			t.Errorf("%s = %v", what, v)
		}
	}
	if gpuToo {
		finite("matmul_gflops", r.MatmulGFLOPs, true)
		if r.Adapter == "" {
			t.Error("no adapter name")
		}
	}
	var shares [2]float64
	kinds := map[string]bool{}
	for _, k := range r.Kernels {
		kinds[k.Kernel] = true
		for i, kt := range []*kernelTime{k.GPU, k.CPU} {
			if kt == nil {
				// The CPU sums skip gradients inline, the GPU with combine_fwd.
				if i == 0 && gpuToo || i == 1 && k.Kernel != "combine_fwd" {
					t.Errorf("%s: no time on backend %d", k.Kernel, i)
				}
				continue
			}
			finite(k.Kernel+" ms_per_step", kt.MsPerStep, i == 1)
			finite(k.Kernel+" gflops", kt.GFLOPs, false)
			finite(k.Kernel+" share", kt.Share, false)
			if kt.Calls < 1 {
				t.Errorf("%s: %d calls", k.Kernel, kt.Calls)
			}
			shares[i] += kt.Share
		}
	}
	for _, k := range []string{"conv3x3_fwd/s1", "conv3x3_vjp/s2", "conv3x3_vjp/up", "conv1x1_fwd", "groupnorm_vjp", "attention_vjp"} {
		if !kinds[k] {
			t.Errorf("no row for %s", k)
		}
	}
	if math.Abs(shares[1]-1) > 1e-9 || gpuToo && math.Abs(shares[0]-1) > 1e-9 {
		t.Errorf("shares sum to %v (GPU) and %v (CPU), want 1", shares[0], shares[1])
	}
	want := 2 * len(strings.Split(backends, ","))
	if len(r.Restores) != want {
		t.Errorf("%d restore rows, want %d", len(r.Restores), want)
	}
	for _, x := range r.Restores {
		finite(string(x.Method)+" ms_per_step", x.MsPerStep, true)
		if math.Abs(x.MsPerRestore-2*x.MsPerStep) > 1e-9*x.MsPerRestore {
			t.Errorf("%s on %s: %v ms per restore, %v per step of 2", x.Method, x.Backend, x.MsPerRestore, x.MsPerStep)
		}
	}
	if gpuToo {
		for _, m := range benchMethods {
			finite("speedup "+string(m), r.Speedup[m], true)
		}
	}
}

// TestBenchSize runs bench --size on a small local model: a 64×64 output
// of 5×5 16-pixel tiles, whose step and restores the report describes.
func TestBenchSize(t *testing.T) {
	path := writeModel(t, model.Config{
		Resolution: 16, InChannels: 3, Channels: 6, Mult: []int{1, 2}, ResBlocks: 1,
		AttnResolutions: []int{}, MidAttn: new(false), Groups: 2, Heads: 2, TimeScale: 1000,
	})
	backends, stdout := runBenchJSON(t, "--model", path, "--size", "64x64", "--steps", "1", "--repeat", "1")
	var r benchReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("output is not a report: %v\n%s", err, stdout)
	}
	if r.Size != "64x64" || r.Tiles != 5*5 {
		t.Errorf("size %q with %d tiles, want 64x64 with 25", r.Size, r.Tiles)
	}
	gpuToo := strings.Contains(backends, "gpu")
	if gpuToo && (r.NetBatch < 1 || r.NetBatch > r.Tiles) {
		t.Errorf("net_batch %d for %d tiles", r.NetBatch, r.Tiles)
	}
	var cuts int
	for _, k := range r.Kernels {
		// The CPU's forward convs run once a tile (it keeps every tile's
		// activations), its VJP's once a tile.
		if k.Kernel == "conv3x3_vjp/s2" && (k.CPU == nil || k.CPU.Calls != r.Tiles) {
			t.Errorf("%s: CPU calls %+v, want %d", k.Kernel, k.CPU, r.Tiles)
		}
		if k.Kernel == "tile_cut" && k.GPU != nil {
			cuts = k.GPU.Calls
		}
	}
	if gpuToo {
		b := (r.Tiles + r.NetBatch - 1) / r.NetBatch // batches
		if cuts != 3*b-1 {
			t.Errorf("%d tile cuts in a step of %d batches, want %d", cuts, b, 3*b-1)
		}
	}
	if want := 2 * len(strings.Split(backends, ",")); len(r.Restores) != want {
		t.Fatalf("%d restore rows, want %d", len(r.Restores), want)
	}
	for _, x := range r.Restores {
		if want := float64(r.Tiles) / (x.MsPerStep / 1e3); math.Abs(x.TilesPerS-want) > 1e-6*want {
			t.Errorf("%s on %s: %v tiles/s, want %v from %v ms a step", x.Method, x.Backend, x.TilesPerS, want, x.MsPerStep)
		}
	}
	code, _, stderr := runCLI(t, "bench", "--model", writeTinyModel(t), "--size", "64x64", "--backend", "cpu")
	if code != 2 || !strings.Contains(stderr, "local model") {
		t.Errorf("--size with an attention model: exit %d, stderr %q; want exit 2 naming a local model", code, stderr)
	}
}

func TestBenchTable(t *testing.T) {
	code, stdout, stderr := runCLI(t, "bench", "--model", writeTinyModel(t), "--backend", "cpu", "--steps", "1", "--repeat", "1")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, s := range []string{"kernels, one network step", "conv3x3_vjp/s1", "CPU convolutions:", "restorations (sr4):", "cpigdm", "pigdm"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, stdout)
		}
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown backend":  {"--backend", "tpu"},
		"twice a backend":  {"--backend", "cpu,cpu"},
		"empty backend":    {"--backend", ""},
		"steps zero":       {"--steps", "0"},
		"repeat negative":  {"--repeat", "-1"},
		"missing model":    {"--model", filepath.Join(t.TempDir(), "none.safetensors")},
		"positional":       {"extra"},
		"steps not number": {"--steps", "five"},
		"size not WxH":     {"--size", "256"},
		"size not ×4":      {"--size", "258x256"},
		"size too small":   {"--size", "32x32"},
		"size too large":   {"--size", "4096x4096"},
		"gpu-mib zero":     {"--gpu-mib", "0"},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"bench"}, args...)...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		last := lines[len(lines)-1]
		if code != 2 || stdout != "" || !strings.HasPrefix(last, "conjure bench: ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and a one-line error", name, code, stdout, stderr)
		}
	}
}
