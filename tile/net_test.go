package tile

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"conjure/model"
	"conjure/sampler/gaussian"
)

// randVec returns n values drawn from N(0, s²).
func randVec(rng *rand.Rand, n int, s float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = s * rng.NormFloat64()
	}
	return v
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// identity is the network ε(x) = x, whose tiled form is x itself exactly
// when the blend weights sum to one at every pixel.
type identity struct{ dim int }

func (n identity) Dim() int                        { return n.dim }
func (n identity) Eps(dst, x []float64, _ float64) { copy(dst, x) }
func (n identity) VJP(dst, v []float64)            { copy(dst, v) }

// TestGridPartitionOfUnity checks the tiling itself: every tile inside the
// image, every pixel covered, neighbours overlapping by at least the
// overlap, weights in [0, 1] summing to one along each axis, and the first
// and last tiles flush with the borders.
func TestGridPartitionOfUnity(t *testing.T) {
	for _, c := range []struct{ n, size, overlap int }{
		{64, 64, 16}, {65, 64, 16}, {111, 64, 16}, {1001, 64, 16}, {17, 64, 16}, {16, 64, 16},
		{63, 64, 16}, {200, 64, 32}, {97, 32, 0}, {40, 16, 8},
	} {
		ls := lines(c.n, c.size, c.overlap)
		sum := make([]float64, c.n)
		for k, l := range ls {
			if len(l.Index) != c.size || len(l.Weight) != c.size {
				t.Fatalf("%+v: tile %d has %d indices, %d weights", c, k, len(l.Index), len(l.Weight))
			}
			for q, i := range l.Index {
				if i < 0 || i >= c.n || l.Weight[q] < 0 || l.Weight[q] > 1 {
					t.Fatalf("%+v: tile %d position %d: index %d, weight %g", c, k, q, i, l.Weight[q])
				}
				sum[i] += l.Weight[q]
			}
			if k > 0 && c.n >= c.size {
				if ov := ls[k-1].Index[c.size-1] + 1 - l.Index[0]; ov < c.overlap {
					t.Errorf("%+v: tiles %d and %d overlap by %d", c, k-1, k, ov)
				}
			}
		}
		for i, s := range sum {
			if math.Abs(s-1) > 1e-14 {
				t.Fatalf("%+v: weights at pixel %d sum to %.17g", c, i, s)
			}
		}
		if c.n >= c.size && (ls[0].Index[0] != 0 || ls[len(ls)-1].Index[c.size-1] != c.n-1) {
			t.Errorf("%+v: tiles span [%d, %d], want [0, %d]", c, ls[0].Index[0], ls[len(ls)-1].Index[c.size-1], c.n-1)
		}
	}
}

// TestIdentityNetwork: with ε_net = identity, the tiled ε and VJP are the
// identity on images of odd sizes, shorter and longer than a tile.
func TestIdentityNetwork(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, hw := range [][2]int{{37, 29}, {16, 101}, {64, 64}, {129, 70}} {
		g, err := NewGrid(hw[0], hw[1], 32, 8)
		if err != nil {
			t.Fatal(err)
		}
		n, err := New(g, 3, func() Network { return identity{3 * 32 * 32} }, Options{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		x := randVec(rng, n.Dim(), 1)
		eps, g2 := make([]float64, n.Dim()), make([]float64, n.Dim())
		n.Eps(eps, x, 0.5)
		n.VJP(g2, x)
		for i := range x {
			if math.Abs(eps[i]-x[i]) > 1e-12 || math.Abs(g2[i]-x[i]) > 1e-12 {
				t.Fatalf("%v (%d tiles): pixel %d: ε %g, VJP %g, want %g", hw, g.Tiles(), i, eps[i], g2[i], x[i])
			}
		}
	}
}

// gaussianTile returns an exact Gaussian denoiser on c×size×size tiles with
// a random smooth covariance: affine ε, so J u = ε(x+u) − ε(x) exactly.
func gaussianTile(t *testing.T, rng *rand.Rand, c, size int) func() Network {
	d := c * size * size
	a := make([][]float64, d)
	for i := range a {
		a[i] = randVec(rng, d/4, 1/math.Sqrt(float64(d)))
	}
	cov := make([][]float64, d)
	for i := range cov {
		cov[i] = make([]float64, d)
		for j := range cov[i] {
			cov[i][j] = dot(a[i], a[j])
			if i == j {
				cov[i][j] += 0.05
			}
		}
	}
	mean := randVec(rng, d, 0.3)
	return func() Network {
		p, err := gaussian.New(mean, cov)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
}

// TestTransposeLaw checks ⟨v, J u⟩ = ⟨Jᵀv, u⟩ for the tiled ε on odd-sized
// images, with the exact (affine) Gaussian denoiser as the tile network, in
// both VJP modes: activations kept (no more tiles than workers) and
// recomputed.
func TestTransposeLaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rgb16, gray32 := gaussianTile(t, rng, 3, 16), gaussianTile(t, rng, 1, 32)
	for _, c := range []struct{ h, w, workers, ch, size int }{
		{29, 41, 2, 3, 16}, {29, 41, 16, 3, 16}, {29, 16, 1, 3, 16},
		{19, 45, 2, 1, 32}, // 19 < 32: one row of tiles over the reflected image
	} {
		g, err := NewGrid(c.h, c.w, c.size, 4)
		if err != nil {
			t.Fatal(err)
		}
		newNet := rgb16
		if c.ch == 1 {
			newNet = gray32
		}
		n, err := New(g, c.ch, newNet, Options{Workers: c.workers})
		if err != nil {
			t.Fatal(err)
		}
		d := n.Dim()
		x, u, v := randVec(rng, d, 0.8), randVec(rng, d, 1), randVec(rng, d, 1)
		xu := slices.Clone(x)
		for i := range xu {
			xu[i] += u[i]
		}
		e0, e1, jtv := make([]float64, d), make([]float64, d), make([]float64, d)
		n.Eps(e1, xu, 0.4)
		n.Eps(e0, x, 0.4)
		n.VJP(jtv, v)
		var lhs float64
		for i := range v {
			lhs += v[i] * (e1[i] - e0[i])
		}
		rhs := dot(jtv, u)
		t.Logf("%d×%d, %d tiles, resident %v: ⟨v, Ju⟩ = %.12g, ⟨Jᵀv, u⟩ = %.12g", c.h, c.w, g.Tiles(), n.resident, lhs, rhs)
		if math.Abs(lhs-rhs) > 1e-9*math.Abs(lhs) {
			t.Errorf("%d×%d: ⟨v, Ju⟩ = %.15g, ⟨Jᵀv, u⟩ = %.15g", c.h, c.w, lhs, rhs)
		}
	}
}

// localConfig is a small attention-free U-Net, the photo prior's shape.
func localConfig(res int) model.Config {
	off := false
	return model.Config{Resolution: res, InChannels: 3, Channels: 8, Mult: []int{1, 2}, ResBlocks: 1,
		AttnResolutions: []int{}, Groups: 4, Heads: 2, TimeScale: 1000, MidAttn: &off}
}

// TestRealNetwork runs a random attention-free U-Net tiled over an
// odd-sized image: the VJP agrees with central finite differences of the
// tiled ε, does not depend on the worker count or on whether activations
// are kept, and a single-tile image gives exactly the untiled network.
func TestRealNetwork(t *testing.T) {
	m, err := model.NewRandom(localConfig(16), 7)
	if err != nil {
		t.Fatal(err)
	}
	newNet := func() Network { return m.NewRunner() }
	rng := rand.New(rand.NewPCG(5, 6))

	g, err := NewGrid(16, 16, 16, 4)
	if err != nil {
		t.Fatal(err)
	}
	one, err := New(g, 3, newNet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x, v := randVec(rng, one.Dim(), 0.7), randVec(rng, one.Dim(), 1)
	want, wantG, got, gotG := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	r := m.NewRunner()
	r.Eps(want, x, 0.3)
	r.VJP(wantG, v)
	one.Eps(got, x, 0.3)
	one.VJP(gotG, v)
	if !slices.Equal(got, want) || !slices.Equal(gotG, wantG) {
		t.Fatal("a 16×16 image on 16×16 tiles differs from the untiled network")
	}

	g, err = NewGrid(23, 35, 16, 4)
	if err != nil {
		t.Fatal(err)
	}
	var results [][]float64
	for _, o := range []Options{{Workers: 1}, {Workers: 3}, {Workers: 64}, {Workers: 1, Keep: 6}} {
		workers := o.Workers
		n, err := New(g, 3, newNet, o)
		if err != nil {
			t.Fatal(err)
		}
		d := n.Dim()
		if results == nil {
			x, v = randVec(rng, d, 0.7), randVec(rng, d, 1)
		}
		eps, jtv := make([]float64, d), make([]float64, d)
		n.Eps(eps, x, 0.3)
		n.VJP(jtv, v)
		results = append(results, eps, jtv)
		if workers != 3 {
			continue
		}
		u := randVec(rng, d, 1)
		const h = 1e-3
		xp, xm := slices.Clone(x), slices.Clone(x)
		for i := range u {
			xp[i] += h * u[i]
			xm[i] -= h * u[i]
		}
		ep, em := make([]float64, d), make([]float64, d)
		n.Eps(ep, xp, 0.3)
		n.Eps(em, xm, 0.3)
		var fd float64
		for i := range v {
			fd += v[i] * (ep[i] - em[i]) / (2 * h)
		}
		an := dot(jtv, u)
		t.Logf("%d tiles: ⟨v, Ju⟩ by differences %.8g, ⟨Jᵀv, u⟩ %.8g", g.Tiles(), fd, an)
		if math.Abs(fd-an) > 2e-3*math.Abs(an) {
			t.Errorf("finite differences %.8g, VJP %.8g", fd, an)
		}
	}
	for i := 2; i < len(results); i++ {
		if !slices.Equal(results[i], results[i%2]) {
			t.Errorf("result %d differs with another worker count or VJP mode", i)
		}
	}
}

// TestNewErrors: bad sizes are refused with an error, never a panic.
func TestNewErrors(t *testing.T) {
	for _, c := range [][4]int{{15, 64, 64, 16}, {64, 8, 64, 16}, {64, 64, 8, 2}, {64, 64, 64, 40}, {64, 64, 64, -1}} {
		if _, err := NewGrid(c[0], c[1], c[2], c[3]); err == nil {
			t.Errorf("NewGrid%v: no error", c)
		}
	}
	g, _ := NewGrid(20, 20, 16, 4)
	if _, err := New(g, 3, func() Network { return identity{10} }, Options{}); err == nil {
		t.Error("New with a network of the wrong Dim: no error")
	}
}
