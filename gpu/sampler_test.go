package gpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"conjure/cpu"
	"conjure/operator"
	"conjure/sampler"
	"conjure/sampler/gaussian"
)

// hostNetwork fills the network role of a Backend with a CPU network: it
// reads x back, evaluates on the CPU, and uploads the result. It lets the
// real samplers run on the GPU backend before the network executor exists.
type hostNetwork struct {
	net     cpu.Network
	in, out []float64
}

func newHostNetwork(net cpu.Network) *hostNetwork {
	return &hostNetwork{net: net, in: make([]float64, net.Dim()), out: make([]float64, net.Dim())}
}

func (h *hostNetwork) Eps(dst, x *Buffer, tau float64) {
	must(x.Read(h.in))
	h.net.Eps(h.out, h.in, tau)
	must(dst.Write(h.out))
}

func (h *hostNetwork) VJP(dst, v *Buffer) {
	must(v.Read(h.in))
	h.net.VJP(h.out, h.in)
	must(dst.Write(h.out))
}

// randomPrior returns N(m, AAᵀ/d) with random m and A, an exact denoiser
// of dimension d.
func randomPrior(t *testing.T, r *rand.Rand, d int) *gaussian.Prior {
	t.Helper()
	a := make([][]float64, d)
	for i := range a {
		a[i] = randomVec(r, d)
	}
	cov := make([][]float64, d)
	for i := range cov {
		cov[i] = make([]float64, d)
		for j := range cov[i] {
			for k := range d {
				cov[i][j] += a[i][k] * a[j][k] / float64(d)
			}
		}
	}
	p, err := gaussian.New(randomVec(r, d), cov)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSolveMatchesCPU runs C-ΠGDM (w = 15, 5 steps), and ΠGDM and DPS for
// the maps C-ΠGDM does not use, with an exact Gaussian prior on 3×8×8
// images, on the GPU backend and on the CPU backend, and
// requires the restorations to agree to 1e-4 relative (L2). The GPU holds
// vectors, operator factors and coefficients in float32 (relative
// round-off 6e-8 per operation), and the network role reads float32 x; over
// five steps of a few combinations, projections and denoiser calls the
// round-off stays near 1e-6, well inside the tolerance, while a wrong
// coefficient, map or aliasing bug changes the result at order 1.
func TestSolveMatchesCPU(t *testing.T) {
	const c, h, w = 3, 8, 8
	r := rand.New(rand.NewPCG(11, 12))
	keep := make([]bool, c*h*w)
	for i := range keep {
		keep[i] = r.IntN(2) == 0
	}
	box, err := operator.NewBoxSR(c, h, w, 2)
	if err != nil {
		t.Fatal(err)
	}
	inpaint, err := operator.NewInpaint(c, h, w, keep)
	if err != nil {
		t.Fatal(err)
	}
	bicubic, err := operator.NewBicubicSR(c, h, w, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method sampler.Method
		name   string
		op     operator.Operator
		sigmaY float64
		// estimate, when set, starts the run from a random estimate at
		// τ = 0.2 that carries noise of 0.1 (sampler.Start).
		estimate bool
	}{
		{sampler.CPiGDM, "box/f=2,sigma=0", box, 0, false},
		{sampler.CPiGDM, "inpaint/sigma=0", inpaint, 0, false},
		{sampler.CPiGDM, "box/f=2,sigma=0.05", box, 0.05, false},
		{sampler.CPiGDM, "bicubic/f=2,sigma=0", bicubic, 0, false},
		// Noisy C-ΠGDM: four separable gains a step, tables uploaded.
		{sampler.CPiGDM, "bicubic/f=2,sigma=0.05", bicubic, 0.05, false},
		// ΠGDM with noise exercises the separable noisy inverse, DPS Dot.
		{sampler.PiGDM, "bicubic/f=2,sigma=0.05", bicubic, 0.05, false},
		{sampler.DPS, "inpaint/sigma=0.05", inpaint, 0.05, false},
		{sampler.CPiGDM, "inpaint/sigma=0,estimate", inpaint, 0, true},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.method, tc.name), func(t *testing.T) {
			prior := randomPrior(t, r, c*h*w)
			x0 := randomVec(r, c*h*w)
			y := make([]float64, tc.op.Out())
			tc.op.Forward(y, x0)
			for i := range y {
				y[i] += tc.sigmaY * r.NormFloat64()
			}
			z := sampler.Noise(c*h*w, 3)
			o := sampler.DefaultOptions(tc.method)
			var start sampler.Start
			if tc.estimate {
				start = sampler.Start{Estimate: randomVec(r, c*h*w), Tau: 0.2, Noise: 0.1}
			}

			want, err := sampler.Solve(cpu.New(prior), tc.op, y, tc.sigmaY, o, start, z, nil)
			if err != nil {
				t.Fatal(err)
			}
			g := testBackend(t, newHostNetwork(prior))
			got, err := sampler.Solve(g, tc.op, y, tc.sigmaY, o, start, z, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := relErr(got, want)
			t.Logf("relative L2 difference GPU vs CPU: %.3g", e)
			if !(e <= 1e-4) {
				t.Errorf("GPU and CPU restorations differ by %.3g relative, want ≤ 1e-4", e)
			}
		})
	}
}

// deviceNetwork is a linear ε(x) = x/2 computed on the device, so that
// a sampler run involves no readback but the final one.
type deviceNetwork struct{ d *Device }

func (n deviceNetwork) Eps(dst, x *Buffer, _ float64) {
	must(n.d.combine(dst, nil, []sampler.Term{{C: 0.5, V: x}}))
}

func (n deviceNetwork) VJP(dst, v *Buffer) {
	must(n.d.combine(dst, nil, []sampler.Term{{C: 0.5, V: v}}))
}

// TestBatching checks that a whole C-ΠGDM run, with a network that stays
// on the device, is recorded into one batch submitted by the final Read:
// the writes of y and z each submit the (empty or short) work before them,
// and nothing else waits.
func TestBatching(t *testing.T) {
	d := testDevice(t)
	b := testBackend(t, deviceNetwork{d})
	op, err := operator.NewBoxSR(3, 16, 16, 2)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	y, z := randomVec(r, op.Out()), randomVec(r, op.In())
	if err := b.Prepare(op); err != nil {
		t.Fatal(err)
	}
	must(d.Flush())
	before := d.submits
	if _, err := sampler.Solve(b, op, y, 0, sampler.DefaultOptions(sampler.CPiGDM), sampler.Start{}, z, nil); err != nil {
		t.Fatal(err)
	}
	// Write y finds nothing pending, Write z submits H†y, Read submits the
	// whole run.
	n := d.submits - before
	t.Logf("%d submissions", n)
	if n > 2 {
		t.Errorf("a 5-step run took %d submissions, want ≤ 2", n)
	}
}
