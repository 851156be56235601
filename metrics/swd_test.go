package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Small sets keep the tests fast: 32 two-channel 64×64 images give three
// pyramid levels (64, 32, 16 px) of 3072 patches each, whose sampling floor
// (the SWD between two sets from one distribution) is about 0.03.
const (
	sc, sh, sw = 2, 64, 64
	setSize    = 32
	perImage   = 96
	dirs       = 32
)

func noise(r *rand.Rand, n int, std float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = std * r.NormFloat64()
	}
	return x
}

// gaussBlur blurs each channel with a Gaussian of deviation sigma, clamping
// at the borders: a blur independent of the pyramid's binomial kernel.
func gaussBlur(x []float64, c, h, w int, sigma float64) []float64 {
	win := gaussianWindow(2*int(math.Ceil(3*sigma))+1, sigma)
	rad := len(win) / 2
	tmp, out := make([]float64, len(x)), make([]float64, len(x))
	for k := range c {
		for i := range h {
			for j := range w {
				var s float64
				for u, wt := range win {
					s += wt * x[(k*h+i)*w+min(max(j+u-rad, 0), w-1)]
				}
				tmp[(k*h+i)*w+j] = s
			}
		}
		for i := range h {
			for j := range w {
				var s float64
				for u, wt := range win {
					s += wt * tmp[(k*h+min(max(i+u-rad, 0), h-1))*w+j]
				}
				out[(k*h+i)*w+j] = s
			}
		}
	}
	return out
}

// texture returns a random image with detail at several scales: white noise
// and white noise blurred with σ = 1 and 3 px, each rescaled to deviation
// 0.1, summed (deviation ≈ 0.17, so clipping to [−1, 1] never happens).
func texture(r *rand.Rand, c, h, w int) []float64 {
	out := make([]float64, c*h*w)
	for _, sigma := range []float64{0, 1, 3} {
		n := noise(r, len(out), 1)
		if sigma > 0 {
			n = gaussBlur(n, c, h, w, sigma)
		}
		var sq float64
		for _, v := range n {
			sq += v * v
		}
		scale := 0.1 / math.Sqrt(sq/float64(len(n)))
		for i, v := range n {
			out[i] += scale * v
		}
	}
	return out
}

// blocks returns a random piecewise-constant image: 6 overlapping
// rectangles of 8 to 40 px a side, of random value per channel, on a random
// background; sparse edges and flats, a patch distribution unlike texture.
func blocks(r *rand.Rand, c, h, w int) []float64 {
	out := make([]float64, c*h*w)
	for k := range c {
		v := 1.2*r.Float64() - 0.6
		for i := range h * w {
			out[k*h*w+i] = v
		}
	}
	for range 6 {
		i0, j0 := r.IntN(h), r.IntN(w)
		i1, j1 := min(h, i0+8+r.IntN(33)), min(w, j0+8+r.IntN(33))
		for k := range c {
			v := 1.2*r.Float64() - 0.6
			for i := i0; i < i1; i++ {
				for j := j0; j < j1; j++ {
					out[(k*h+i)*w+j] = v
				}
			}
		}
	}
	return out
}

func images(n int, gen func() []float64) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = gen()
	}
	return out
}

func patchSet(imgs [][]float64, seed uint64) *PatchSet {
	p := NewPatchSet(3, perImage, seed)
	for _, x := range imgs {
		p.Add(x, sc, sh, sw)
	}
	return p
}

func swd(t *testing.T, a, b *PatchSet) []float64 {
	t.Helper()
	d, err := SWD(a, b, dirs, 99)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 3 {
		t.Fatalf("SWD returned %d levels, want 3", len(d))
	}
	return d
}

func TestSWDSelfAndOther(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	tex := images(setSize, func() []float64 { return texture(r, sc, sh, sw) })
	a := patchSet(tex, 1)
	same := swd(t, a, patchSet(tex, 1))
	reseeded := swd(t, a, patchSet(tex, 2))
	subset := swd(t, a, patchSet(tex[:24], 3)) // 2304 vs 3072 patches
	other := swd(t, a, patchSet(images(setSize, func() []float64 { return blocks(r, sc, sh, sw) }), 1))
	t.Logf("same seed %.3g, other patch seed %.3g, 24-image subset %.3g, blocks %.3g", same, reseeded, subset, other)
	for l := range 3 {
		if same[l] != 0 {
			t.Errorf("level %d: SWD of a set with itself = %v, want 0", l, same[l])
		}
		if reseeded[l] > other[l]/3 || subset[l] > other[l]/3 {
			t.Errorf("level %d: self distances %v, %v not ≪ %v against blocks", l, reseeded[l], subset[l], other[l])
		}
	}
}

func TestSWDNormalisesContrast(t *testing.T) {
	r := rand.New(rand.NewPCG(20, 21))
	z1 := images(setSize, func() []float64 { return noise(r, sc*sh*sw, 1) })
	z2 := images(setSize, func() []float64 { return noise(r, sc*sh*sw, 1) })
	// scaled gives channel k deviation s[k] and mean m[k], never clipped.
	scaled := func(z [][]float64, s, m [sc]float64) [][]float64 {
		out := make([][]float64, len(z))
		for i, x := range z {
			out[i] = make([]float64, len(x))
			for j, v := range x {
				k := j / (sh * sw)
				out[i][j] = m[k] + s[k]*v
			}
		}
		return out
	}
	faint := patchSet(scaled(z1, [sc]float64{0.02, 0.02}, [sc]float64{0, 0}), 1)
	// The same draws 10× and 3× stronger per channel, one shifted:
	// identical after per-channel standardisation, not after a global one.
	exact := swd(t, faint, patchSet(scaled(z1, [sc]float64{0.2, 0.06}, [sc]float64{0, 0.3}), 1))
	// Other draws of the stronger noise: only sampling differences remain.
	strong := swd(t, faint, patchSet(scaled(z2, [sc]float64{0.2, 0.06}, [sc]float64{0, 0.3}), 2))
	// A distribution of another shape stays far away.
	far := swd(t, faint, patchSet(images(setSize, func() []float64 { return blocks(r, sc, sh, sw) }), 2))
	t.Logf("σ 0.02 vs (0.2, 0.06): same draws %.3g, other draws %.3g; vs blocks %.3g", exact, strong, far)
	for l := range 3 {
		if exact[l] > 1e-9 {
			t.Errorf("level %d: scaled copy at distance %v, want ~0", l, exact[l])
		}
		if strong[l] > far[l]/3 {
			t.Errorf("level %d: noise of other deviations at %v, not ≪ %v for blocks", l, strong[l], far[l])
		}
	}
}

func TestBlurAndNoiseDetected(t *testing.T) {
	r := rand.New(rand.NewPCG(30, 31))
	a := images(setSize, func() []float64 { return texture(r, sc, sh, sw) })
	b := images(setSize, func() []float64 { return texture(r, sc, sh, sw) })
	blurred := make([][]float64, len(b))
	for i, x := range b {
		blurred[i] = gaussBlur(x, sc, sh, sw, 3)
	}
	pa := patchSet(a, 1)
	base := swd(t, pa, patchSet(b, 2))
	blur := swd(t, pa, patchSet(blurred, 2))
	t.Logf("SWD against other textures %.3g, against them blurred (σ = 3) %.3g", base, blur)
	if blur[0] < 4*base[0] {
		t.Errorf("finest-level SWD %v after blur, want ≫ %v", blur[0], base[0])
	}

	x := a[0]
	if got := HighFrequencyRatio(x, x, sc, sh, sw); got != 1 {
		t.Errorf("HighFrequencyRatio(x, x) = %v, want 1", got)
	}
	soft := HighFrequencyRatio(gaussBlur(x, sc, sh, sw, 1), x, sc, sh, sw)
	softer := HighFrequencyRatio(gaussBlur(x, sc, sh, sw, 3), x, sc, sh, sw)
	noisy := slices.Clone(x)
	for i := range noisy {
		noisy[i] += 0.1 * r.NormFloat64()
	}
	grain := HighFrequencyRatio(noisy, x, sc, sh, sw)
	t.Logf("HighFrequencyRatio: blur σ=1 %.4g, σ=3 %.4g, noise σ=0.1 %.4g", soft, softer, grain)
	if !(softer < soft && soft < 0.5) {
		t.Errorf("blurred ratios %v (σ=1), %v (σ=3), want below 0.5 and falling", soft, softer)
	}
	if grain <= 1.5 {
		t.Errorf("noisy ratio %v, want > 1.5", grain)
	}
}

func TestLaplacianPyramid(t *testing.T) {
	r := rand.New(rand.NewPCG(40, 41))
	const c, h, w = 3, 70, 101
	x := make([]float64, c*h*w)
	for i := range x {
		x[i] = 2*r.Float64() - 1
	}
	pyr := laplacianPyramid(x, c, h, w, 5)
	// 70×101 → 35×51 → 18×26; 9×13 would be under 16 px.
	var sizes [][2]int
	for _, lv := range pyr {
		sizes = append(sizes, [2]int{lv.h, lv.w})
	}
	if want := [][2]int{{70, 101}, {35, 51}, {18, 26}}; !slices.Equal(sizes, want) {
		t.Fatalf("level sizes %v, want %v", sizes, want)
	}
	if n := len(laplacianPyramid(x, c, h, w, 2)); n != 2 {
		t.Errorf("levels = 2 gave %d levels", n)
	}
	rec := pyr[len(pyr)-1]
	for l := len(pyr) - 2; l >= 0; l-- {
		rec = upsample(rec, c, pyr[l].h, pyr[l].w)
		for i, v := range pyr[l].v {
			rec.v[i] += v
		}
	}
	var worst float64
	for i := range x {
		worst = max(worst, math.Abs(rec.v[i]-x[i]))
	}
	t.Logf("reconstruction error %.3g", worst)
	if worst > 1e-12 {
		t.Errorf("collapsed pyramid differs from the image by %v", worst)
	}

	// A linear ramp is reproduced by decimation and linear upsampling, so its
	// Laplacian vanishes away from the borders: kernel gains and the
	// alignment of the even samples are right.
	ramp := make([]float64, h*w)
	for i := range h {
		for j := range w {
			ramp[i*w+j] = 0.01*float64(i) - 0.007*float64(j) + 0.3
		}
	}
	lap, _ := detail(plane{ramp, h, w}, 1)
	worst = 0
	for i := 4; i < h-4; i++ {
		for j := 4; j < w-4; j++ {
			worst = max(worst, math.Abs(lap.v[i*w+j]))
		}
	}
	if worst > 1e-12 {
		t.Errorf("interior Laplacian of a ramp up to %v, want 0", worst)
	}
	// A constant has no detail at all, borders included.
	flat := make([]float64, h*w)
	for i := range flat {
		flat[i] = 0.3
	}
	for l, lv := range laplacianPyramid(flat, 1, h, w, 5) {
		want := 0.0
		if l == 2 {
			want = 0.3
		}
		for _, v := range lv.v {
			if math.Abs(v-want) > 1e-15 {
				t.Fatalf("level %d of a constant holds %v, want %v", l, v, want)
			}
		}
	}
}

func TestSortedW1(t *testing.T) {
	// Quantile functions 0,1 on halves and 0,1,2 on thirds differ by 1 on
	// [1/3, 1/2) and [2/3, 1): W1 = 1/6 + 1/3.
	if got := sortedW1([]float64{0, 1}, []float64{0, 1, 2}); math.Abs(got-0.5) > 1e-15 {
		t.Errorf("W1({0,1}, {0,1,2}) = %v, want 0.5", got)
	}
	if got := sortedW1([]float64{0, 1, 5}, []float64{2, 2, 3}); math.Abs(got-(2+1+2)/3.0) > 1e-15 {
		t.Errorf("equal sizes: W1 = %v, want 5/3", got)
	}
	r := rand.New(rand.NewPCG(50, 51))
	sample := func(n int, mu, sigma float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = mu + sigma*r.NormFloat64()
		}
		slices.Sort(s)
		return s
	}
	for _, tc := range []struct {
		name      string
		n, m      int
		mu, sigma float64
		want      float64
	}{
		{"shift 1", 50000, 50000, 1, 1, 1},
		{"shift 1, unequal sizes", 50000, 30000, 1, 1, 1},
		{"scale 2", 50000, 50000, 0, 2, math.Sqrt(2 / math.Pi)},
		{"scale 0.5, unequal sizes", 40000, 50000, 0, 0.5, 0.5 * math.Sqrt(2/math.Pi)},
	} {
		got := sortedW1(sample(tc.n, 0, 1), sample(tc.m, tc.mu, tc.sigma))
		t.Logf("%s: W1 = %.4f, want %.4f", tc.name, got, tc.want)
		if math.Abs(got-tc.want) > 0.03*tc.want {
			t.Errorf("%s: W1 = %v, want %v within 3%%", tc.name, got, tc.want)
		}
	}
}

func TestSWDErrorsAndMixedSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(60, 61))
	big := NewPatchSet(3, 8, 1)
	big.Add(texture(r, sc, sh, sw), sc, sh, sw)
	mixed := NewPatchSet(3, 8, 2)
	mixed.Add(texture(r, sc, 40, 48), sc, 40, 48) // two levels
	mixed.Add(texture(r, sc, 70, 64), sc, 70, 64) // three
	if d, err := SWD(big, mixed, 4, 1); err != nil || len(d) != 3 {
		t.Errorf("mixed sizes: %v, %v", d, err)
	}
	small := NewPatchSet(3, 8, 3)
	small.Add(texture(r, sc, 32, 32), sc, 32, 32)
	gray := NewPatchSet(3, 8, 4)
	gray.Add(texture(r, 1, sh, sw), 1, sh, sw)
	for name, pair := range map[string][2]*PatchSet{
		"empty":    {NewPatchSet(3, 8, 5), big},
		"depth":    {big, small},
		"channels": {big, gray},
	} {
		if _, err := SWD(pair[0], pair[1], 4, 1); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := SWD(big, big, 0, 1); err == nil {
		t.Error("0 directions: no error")
	}
}

// Sets built per image and merged in order equal the set built in one go
// when each per-image set has the seed and image count the whole set would
// have given it, and SWD between them is exactly 0.
func TestPatchSetMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	whole := NewPatchSet(3, 8, 5)
	merged := NewPatchSet(3, 8, 5)
	for i := range 4 {
		x := make([]float64, 2*40*33)
		for k := range x {
			x[k] = 2*rng.Float64() - 1
		}
		whole.Add(x, 2, 40, 33)
		one := NewPatchSet(3, 8, 5)
		one.images = uint64(i)
		one.Add(x, 2, 40, 33)
		merged.Merge(one)
	}
	d, err := SWD(whole, merged, 16, 1)
	if err != nil {
		t.Fatal(err)
	}
	for l, v := range d {
		if v != 0 || len(whole.desc[l]) != len(merged.desc[l]) {
			t.Errorf("level %d: SWD %g, %d vs %d values", l, v, len(whole.desc[l]), len(merged.desc[l]))
		}
	}
}
