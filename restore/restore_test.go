package restore

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"conjure/cpu"
	"conjure/sampler"
	"conjure/sampler/gaussian"
)

func TestOperatorsAndMeasurements(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const res = 16
	img := make([]float64, Channels*res*res)
	for i := range img {
		img[i] = r.Float64()*2 - 1
	}
	for _, task := range Tasks {
		op, err := Operator(task, res, CentreHole(res, res))
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		if op.In() != len(img) {
			t.Fatalf("%s: operator takes %d values, image has %d", task, op.In(), len(img))
		}
		side := ObservedSide(task, res)
		// What a person supplies: an observed image of side `side`, from
		// which Measurement must give exactly H applied to the truth when
		// the truth is consistent with it.
		want := make([]float64, op.Out())
		op.Forward(want, img)
		var supplied []float64
		switch task {
		case SR4, SR4Box, Deblur:
			supplied = want
		default:
			supplied = img
		}
		if task == SR4 || task == SR4Box {
			if len(supplied) != Channels*side*side {
				t.Fatalf("%s: observation has %d values, want %d×%d×%d", task, len(supplied), Channels, side, side)
			}
		}
		got := Measurement(op, supplied)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: measurement[%d] = %v, want %v", task, i, got[i], want[i])
			}
		}
	}
}

func TestCentreHoleArea(t *testing.T) {
	for _, res := range []int{16, 64} {
		holes := 0
		for _, k := range CentreHole(res, res) {
			if !k {
				holes++
			}
		}
		if holes*4 != res*res {
			t.Errorf("r=%d: %d holes, want a quarter of %d", res, holes, res*res)
		}
	}
}

func TestBadInput(t *testing.T) {
	if _, err := ParseTask("sr3"); err == nil {
		t.Error("unknown task accepted")
	}
	if _, err := Operator(Inpaint, 8, nil); err == nil {
		t.Error("inpainting without a mask accepted")
	}
	if _, err := Operator(Inpaint, 8, make([]bool, 63)); err == nil {
		t.Error("mask of the wrong size accepted")
	}
	if _, err := Operator(Inpaint, 8, make([]bool, 64)); err == nil {
		t.Error("all-hole mask accepted")
	}
}

// Run returns the sampler's x_N with, for noiseless inpainting only, every
// kept pixel set to the measurement's: a Gaussian prior and a random mask,
// checked against sampler.Solve from the same noise.
func TestRunPastesKeptPixels(t *testing.T) {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	const res = 8
	d := Channels * res * res
	prior := diagonalPrior(t, r, d)
	keep := make([]bool, res*res)
	for i := range keep {
		keep[i] = r.Float64() < 0.6
	}
	truth := make([]float64, d)
	for i := range truth {
		truth[i] = r.Float64()*2 - 1
	}
	o := sampler.DefaultOptions(sampler.CPiGDM)
	o.Steps, o.W, o.Tau0 = 5, 5, 0.7
	// Noisy C-ΠGDM diverges on this prior at w = 5 (its first-order
	// inverse of A^σ, ALGORITHM.md §3.8): the noisy case runs at w = 1.
	for _, c := range []struct {
		task   Task
		sigmaY float64
		pasted bool
		w      float64
	}{{Inpaint, 0, true, 5}, {Inpaint, 0.05, false, 1}, {SR4, 0, false, 5}} {
		o.W = c.w
		op, err := Operator(c.task, res, keep)
		if err != nil {
			t.Fatal(err)
		}
		y := Measurement(op, truth)
		seed := r.Uint64()
		start, err := StartFor(c.task, op, y, c.sigmaY)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Run(cpu.New(prior), op, y, c.sigmaY, o, start, seed, nil)
		if err != nil {
			t.Fatalf("%s σ_y=%g: %v", c.task, c.sigmaY, err)
		}
		raw, err := sampler.Solve(cpu.New(prior), op, y, c.sigmaY, o, start, sampler.Noise(op.In(), seed), nil)
		if err != nil {
			t.Fatal(err)
		}
		drift := 0.0
		for i := range got {
			want := raw[i]
			if c.pasted && keep[i%(res*res)] {
				want = truth[i] // H keeps these pixels: y holds them exactly
				drift = max(drift, math.Abs(raw[i]-truth[i]))
			}
			if math.Abs(got[i]-want) > 1e-12 {
				t.Fatalf("%s σ_y=%g: x[%d] = %g, want %g (sampler %g)", c.task, c.sigmaY, i, got[i], want, raw[i])
			}
		}
		if c.pasted && drift < 1e-3 {
			t.Errorf("the sampler alone already kept the pixels (drift %g): the test cannot see the paste", drift)
		}
	}
}

// diagonalPrior returns a random Gaussian prior on d values with a
// diagonal covariance: every pixel independent, so a sampler's result is
// known pixel by pixel.
func diagonalPrior(t *testing.T, r *rand.Rand, d int) *gaussian.Prior {
	t.Helper()
	mean := make([]float64, d)
	cov := make([][]float64, d)
	for i := range cov {
		mean[i] = r.NormFloat64() * 0.3
		cov[i] = make([]float64, d)
		cov[i][i] = 0.1 + 0.2*r.Float64()
	}
	prior, err := gaussian.New(mean, cov)
	if err != nil {
		t.Fatal(err)
	}
	return prior
}
