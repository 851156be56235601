package classical_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"conjure/classical"
)

// newRand returns a generator with a fresh seed, logged so that a failure
// can be replayed by pasting the seed in.
func newRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// randImage returns n values uniform in [−1, 1).
func randImage(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = 2*r.Float64() - 1
	}
	return x
}

// randMask returns n flags, each kept with probability p, with at least one
// kept and one hole so that the fill has work to do.
func randMask(r *rand.Rand, n int, p float64) []bool {
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = r.Float64() < p
	}
	keep[r.IntN(n)] = true
	for {
		if i := r.IntN(n); keep[i] {
			keep[i] = false
			break
		}
	}
	return keep
}

// Kept pixels come back bit for bit in every channel, and x is not touched.
func TestHarmonicKeepsKeptPixelsExactly(t *testing.T) {
	r := newRand(t)
	const c, h, w = 3, 17, 23
	x := randImage(r, c*h*w)
	orig := slices.Clone(x)
	keep := randMask(r, h*w, 0.5)
	out, err := classical.Harmonic(x, c, h, w, keep)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, orig) {
		t.Fatal("Harmonic modified its input")
	}
	for k := range c {
		for p, kept := range keep {
			if kept && out[k*h*w+p] != x[k*h*w+p] {
				t.Fatalf("kept pixel (%d, %d) changed: %v → %v", k, p, x[k*h*w+p], out[k*h*w+p])
			}
		}
	}
}

// A discrete-harmonic polynomial (its 5-point Laplacian is exactly 0) is the
// unique fill of interior holes whose surroundings it takes, so the fill
// must reproduce it. Holes stay off the border, where the mirror condition
// would differ from the polynomial's.
func TestHarmonicReproducesHarmonicPolynomial(t *testing.T) {
	r := newRand(t)
	const c, h, w = 2, 19, 16
	x := make([]float64, c*h*w)
	for k := range c {
		// Coefficients scaled so every term is O(1) over the image.
		a, b, cc := 2*r.Float64()-1, (2*r.Float64()-1)/h, (2*r.Float64()-1)/w
		d, e := (2*r.Float64()-1)/(h*h), (2*r.Float64()-1)/(h*w)
		for i := range h {
			for j := range w {
				fi, fj := float64(i), float64(j)
				x[k*h*w+i*w+j] = a + b*fi + cc*fj + d*(fi*fi-fj*fj) + e*fi*fj
			}
		}
	}
	keep := make([]bool, h*w)
	for i := range h {
		for j := range w {
			interior := i > 0 && i < h-1 && j > 0 && j < w-1
			keep[i*w+j] = !interior || r.Float64() < 0.3
		}
	}
	// A large interior block, so the solution has to travel far.
	for i := 3; i < 14; i++ {
		for j := 2; j < 12; j++ {
			keep[i*w+j] = false
		}
	}
	// The holes get garbage, so a fill that ignores them is not rewarded.
	in := slices.Clone(x)
	for k := range c {
		for p, kept := range keep {
			if !kept {
				in[k*h*w+p] = 10 * (2*r.Float64() - 1)
			}
		}
	}
	out, err := classical.Harmonic(in, c, h, w, keep)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if math.Abs(out[i]-x[i]) > 1e-7 {
			t.Fatalf("value %d = %.12g, want the polynomial's %.12g", i, out[i], x[i])
		}
	}
}

// denseHarmonic solves the fill's linear system for one channel directly:
// for each hole pixel, deg·u − Σ(hole neighbours' u) = Σ(kept neighbours'
// values), deg the number of in-image 4-neighbours.
func denseHarmonic(t *testing.T, plane []float64, h, w int, keep []bool) []float64 {
	t.Helper()
	num := make(map[int]int)
	var holes []int
	for p, kept := range keep {
		if !kept {
			num[p] = len(holes)
			holes = append(holes, p)
		}
	}
	n := len(holes)
	a := mat.NewDense(n, n, nil)
	b := mat.NewVecDense(n, nil)
	for row, p := range holes {
		i, j := p/w, p%w
		for _, d := range [][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
			ni, nj := i+d[0], j+d[1]
			if ni < 0 || ni >= h || nj < 0 || nj >= w {
				continue
			}
			a.Set(row, row, a.At(row, row)+1)
			q := ni*w + nj
			if keep[q] {
				b.SetVec(row, b.AtVec(row)+plane[q])
			} else {
				a.Set(row, num[q], a.At(row, num[q])-1)
			}
		}
	}
	var u mat.VecDense
	if err := u.SolveVec(a, b); err != nil {
		t.Fatalf("dense solve: %v", err)
	}
	out := slices.Clone(plane)
	for row, p := range holes {
		out[p] = u.AtVec(row)
	}
	return out
}

// The CG fill agrees with a dense solve of the system built independently
// here, with holes on the border and in the corners (the mirror condition).
func TestHarmonicMatchesDenseSolve(t *testing.T) {
	r := newRand(t)
	const c, h, w = 3, 9, 11
	x := randImage(r, c*h*w)
	keep := randMask(r, h*w, 0.35)
	// Border and corner holes, whatever the draw.
	keep[0], keep[w-1], keep[(h-1)*w], keep[h*w-1] = false, false, false, false
	keep[4*w], keep[5*w-1], keep[5] = false, false, false
	out, err := classical.Harmonic(x, c, h, w, keep)
	if err != nil {
		t.Fatal(err)
	}
	for k := range c {
		want := denseHarmonic(t, x[k*h*w:(k+1)*h*w], h, w, keep)
		for p := range want {
			if got := out[k*h*w+p]; math.Abs(got-want[p]) > 1e-8 {
				t.Errorf("channel %d pixel (%d, %d) = %.12g, dense solve %.12g", k, p/w, p%w, got, want[p])
			}
		}
	}
}

// An isolated kept pixel amid holes that reach every border: the whole
// image fills with its value (no flux out of the image).
func TestHarmonicSingleKeptPixel(t *testing.T) {
	r := newRand(t)
	const c, h, w = 2, 6, 7
	x := randImage(r, c*h*w)
	keep := make([]bool, h*w)
	p := r.IntN(h * w)
	keep[p] = true
	out, err := classical.Harmonic(x, c, h, w, keep)
	if err != nil {
		t.Fatal(err)
	}
	for k := range c {
		for q := range h * w {
			if got, want := out[k*h*w+q], x[k*h*w+p]; math.Abs(got-want) > 1e-9 {
				t.Fatalf("channel %d pixel %d = %v, want the kept value %v", k, q, got, want)
			}
		}
	}
}

func TestHarmonicEdgeCases(t *testing.T) {
	r := newRand(t)
	const c, h, w = 2, 5, 6
	x := randImage(r, c*h*w)

	if _, err := classical.Harmonic(x, c, h, w, make([]bool, h*w)); !errors.Is(err, classical.ErrNothingKept) {
		t.Errorf("all-hole mask: err = %v, want ErrNothingKept", err)
	}

	all := make([]bool, h*w)
	for i := range all {
		all[i] = true
	}
	out, err := classical.Harmonic(x, c, h, w, all)
	if err != nil || !slices.Equal(out, x) {
		t.Errorf("no-hole mask: err = %v, output equal to input: %v", err, slices.Equal(out, x))
	}
	if len(out) > 0 && &out[0] == &x[0] {
		t.Error("no-hole mask returned the input slice itself, not a copy")
	}

	keep := randMask(r, h*w, 0.5)
	if _, err := classical.Harmonic(x[:len(x)-1], c, h, w, keep); err == nil {
		t.Error("short image accepted")
	}
	if _, err := classical.Harmonic(x, c, h, w, keep[:len(keep)-1]); err == nil {
		t.Error("short mask accepted")
	}
	if _, err := classical.Harmonic(append(slices.Clone(x), 0), c, h, w, keep); err == nil {
		t.Error("long image accepted")
	}
}

// Each filled value is the mean of its in-image neighbours, so the fill
// cannot leave the range of the values it is built from.
func TestHarmonicMaximumPrinciple(t *testing.T) {
	r := newRand(t)
	const c, h, w = 3, 20, 18
	x := randImage(r, c*h*w)
	keep := randMask(r, h*w, 0.25)
	out, err := classical.Harmonic(x, c, h, w, keep)
	if err != nil {
		t.Fatal(err)
	}
	for k := range c {
		lo, hi := math.Inf(1), math.Inf(-1)
		for p, kept := range keep {
			if kept {
				lo, hi = min(lo, x[k*h*w+p]), max(hi, x[k*h*w+p])
			}
		}
		for p, kept := range keep {
			if v := out[k*h*w+p]; !kept && (v < lo-1e-9 || v > hi+1e-9) {
				t.Errorf("channel %d pixel %d filled with %v outside the kept range [%v, %v]", k, p, v, lo, hi)
			}
		}
	}
}

// A hole whose whole rim is exactly 0, in an image that is not: the fill is
// 0. The right-hand side of the system is then 0 while the start (the kept
// mean, for pixels with no kept neighbour) is not, which a relative
// stopping rule must survive without NaN or a wrong answer.
func TestHarmonicZeroRim(t *testing.T) {
	r := newRand(t)
	const h, w = 24, 20
	x := make([]float64, h*w)
	keep := make([]bool, h*w)
	for i := range h {
		for j := range w {
			p := i*w + j
			keep[p] = !(i >= 6 && i < 18 && j >= 5 && j < 15)
			switch {
			case !keep[p]:
				x[p] = 2*r.Float64() - 1 // garbage in the hole
			case i < 3:
				x[p] = 0.2 + 0.7*r.Float64() // far from the hole
			}
		}
	}
	out, err := classical.Harmonic(x, 1, h, w, keep)
	if err != nil {
		t.Fatal(err)
	}
	for p, v := range out {
		if !keep[p] && !(math.Abs(v) <= 1e-9) {
			t.Fatalf("pixel (%d, %d) filled with %v, want 0", p/w, p%w, v)
		}
	}
}
