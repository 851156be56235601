package restore

import (
	"math/rand/v2"
	"testing"
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
