package classical_test

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"conjure/classical"
	"conjure/operator"
)

// denseOf materialises the matrix of op column by column, H e_j.
func denseOf(op operator.Operator) *mat.Dense {
	m, d := op.Out(), op.In()
	h := mat.NewDense(m, d, nil)
	e := make([]float64, d)
	col := make([]float64, m)
	for j := range d {
		e[j] = 1
		op.Forward(col, e)
		e[j] = 0
		h.SetCol(j, col)
	}
	return h
}

// denseWiener computes Hᵀ(HHᵀ + kI)⁻¹y with dense algebra.
func denseWiener(t *testing.T, h *mat.Dense, y []float64, k float64) []float64 {
	t.Helper()
	m, _ := h.Dims()
	var g mat.Dense
	g.Mul(h, h.T())
	for i := range m {
		g.Set(i, i, g.At(i, i)+k)
	}
	var z mat.VecDense
	if err := z.SolveVec(&g, mat.NewVecDense(m, y)); err != nil {
		t.Fatalf("dense solve: %v", err)
	}
	var x mat.VecDense
	x.MulVec(h.T(), &z)
	return x.RawVector().Data
}

func wienerOperators(t *testing.T) map[string]operator.Operator {
	t.Helper()
	kernel, err := operator.GaussianKernel(1.5, 2)
	if err != nil {
		t.Fatal(err)
	}
	blur, err := operator.NewBlur(3, 12, 10, kernel, 0)
	if err != nil {
		t.Fatal(err)
	}
	sr, err := operator.NewBicubicSR(3, 16, 16, 4)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]operator.Operator{"blur": blur, "bicubic×4": sr}
}

// Wiener equals the dense formula Hᵀ(HHᵀ + kI)⁻¹y and is the minimiser of
// ‖y − Hx‖² + k‖x‖² (its gradient Hᵀ(Hx − y) + kx vanishes).
func TestWienerMatchesDense(t *testing.T) {
	r := newRand(t)
	for name, op := range wienerOperators(t) {
		h := denseOf(op)
		for _, k := range []float64{1e-3, classical.WienerRatio(0.05), 0.7} {
			y := randImage(r, op.Out())
			got, err := classical.Wiener(op, y, k)
			if err != nil {
				t.Fatalf("%s, k=%g: %v", name, k, err)
			}
			want := denseWiener(t, h, y, k)
			if len(got) != op.In() {
				t.Fatalf("%s: %d values, want %d", name, len(got), op.In())
			}
			diff := make([]float64, len(got))
			floats.SubTo(diff, got, want)
			if rel := floats.Norm(diff, 2) / floats.Norm(want, 2); rel > 1e-8 {
				t.Errorf("%s, k=%g: relative difference %.3g from the dense Wiener solution", name, k, rel)
			}

			// Gradient of the objective at got, relative to the size of its
			// terms (‖Hᵀy‖).
			var hx, grad, hty mat.VecDense
			hx.MulVec(h, mat.NewVecDense(len(got), got))
			hx.SubVec(&hx, mat.NewVecDense(len(y), y))
			grad.MulVec(h.T(), &hx)
			grad.AddScaledVec(&grad, k, mat.NewVecDense(len(got), got))
			hty.MulVec(h.T(), mat.NewVecDense(len(y), y))
			if rel := mat.Norm(&grad, 2) / mat.Norm(&hty, 2); rel > 1e-8 {
				t.Errorf("%s, k=%g: gradient of ‖y−Hx‖²+k‖x‖² is %.3g of ‖Hᵀy‖, not 0", name, k, rel)
			}
		}
	}
}

func TestWienerRejects(t *testing.T) {
	r := newRand(t)
	op := wienerOperators(t)["bicubic×4"]
	y := randImage(r, op.Out())
	for _, k := range []float64{0, -0.1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := classical.Wiener(op, y, k); err == nil {
			t.Errorf("k = %v accepted", k)
		}
	}
	if _, err := classical.Wiener(op, y[:len(y)-1], 0.1); err == nil {
		t.Error("short measurement accepted")
	}
	if _, err := classical.Wiener(op, append(y, 0), 0.1); err == nil {
		t.Error("long measurement accepted")
	}
}

// WienerRatio is σ_y²/σ_x² with σ_y floored at the 8-bit rounding level.
func TestWienerRatio(t *testing.T) {
	if got, want := classical.WienerRatio(0.1), 0.01/(classical.SignalStd*classical.SignalStd); math.Abs(got-want) > 1e-15 {
		t.Errorf("WienerRatio(0.1) = %v, want %v", got, want)
	}
	floor := math.Pow(2/255.0, 2) / 12 / (classical.SignalStd * classical.SignalStd)
	for _, s := range []float64{0, 1e-5, classical.RoundingStd} {
		if got := classical.WienerRatio(s); math.Abs(got-floor) > 1e-15*floor {
			t.Errorf("WienerRatio(%v) = %v, want the rounding floor %v", s, got, floor)
		}
	}
}
