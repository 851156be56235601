package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// patchSize is the side of the square patches compared, as in Karras et al.
const patchSize = 7

// minLevelSide is the smallest side a pyramid level may have: the paper
// stops at 16 px, below which 7×7 patches see mostly padding.
const minLevelSide = 16

// binomial is the 5-tap Burt–Adelson kernel [1, 4, 6, 4, 1]/16.
var binomial = [5]float64{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}

// PatchSet accumulates the patch descriptors of a set of images for SWD, as
// in Karras et al., "Progressive Growing of GANs" (ICLR 2018), §5 and
// Appendix D; no pretrained network is involved.
//
// Each added image is clipped to [−1, 1] and mapped to [0, 1] (see PSNR),
// then decomposed into a Laplacian pyramid: blur with the separable 5-tap
// binomial kernel [1, 4, 6, 4, 1]/16 under mirror padding (d c b | a b c d |
// c b a) and keep every other row and column (⌈h/2⌉×⌈w/2⌉); level k is
// Gaussian level k minus the upsampled level k+1 (zeros inserted, the same
// kernel with gain 4), and the coarsest level is the Gaussian residual
// itself. The pyramid has at most levels levels and stops before a side
// would drop below 16 px. From every level patchesPerImage 7×7×C patches are
// taken at uniformly random positions (all positions where the patch fits)
// and flattened, channel-major then row-major, into 49·C-vectors.
//
// Positions come from a PCG seeded with (seed, n) for the n-th added image,
// so a set is reproducible from its seed and the order of its images.
// Images may differ in size; a set only has as many levels as its deepest
// image, and a level is fed by the images large enough to reach it.
type PatchSet struct {
	levels, perImage int
	seed, images     uint64
	channels         int
	desc             [][]float64 // per level: descriptors of 49·channels values, back to back
}

// NewPatchSet returns an empty set taking patchesPerImage patches from each
// of up to levels pyramid levels of every image; the paper uses 128 patches
// per image. It panics unless both counts are at least 1.
func NewPatchSet(levels, patchesPerImage int, seed uint64) *PatchSet {
	if levels < 1 || patchesPerImage < 1 {
		panic(fmt.Sprintf("metrics: %d levels and %d patches per image", levels, patchesPerImage))
	}
	return &PatchSet{levels: levels, perImage: patchesPerImage, seed: seed}
}

// Add decomposes x, c channels of h×w pixels, and appends its patches. It
// panics if x is not c×h×w, the image is smaller than a patch, or c differs
// from the images added before.
func (p *PatchSet) Add(x []float64, c, h, w int) {
	if c < 1 || len(x) != c*h*w {
		panic(fmt.Sprintf("metrics: %d values are not %d×%d×%d", len(x), c, h, w))
	}
	if h < patchSize || w < patchSize {
		panic(fmt.Sprintf("metrics: %d×%d image is smaller than a %d×%d patch", h, w, patchSize, patchSize))
	}
	if p.channels == 0 {
		p.channels = c
	} else if c != p.channels {
		panic(fmt.Sprintf("metrics: %d-channel image added to a %d-channel patch set", c, p.channels))
	}
	r := rand.New(rand.NewPCG(p.seed, p.images))
	p.images++
	for l, lv := range laplacianPyramid(unitCopy(x), c, h, w, p.levels) {
		if l == len(p.desc) {
			p.desc = append(p.desc, nil)
		}
		for range p.perImage {
			i0, j0 := r.IntN(lv.h-patchSize+1), r.IntN(lv.w-patchSize+1)
			for k := range c {
				for u := range patchSize {
					at := k*lv.h*lv.w + (i0+u)*lv.w + j0
					p.desc[l] = append(p.desc[l], lv.v[at:at+patchSize]...)
				}
			}
		}
	}
}

// Merge appends the patches of q to p: a set built image by image in
// parallel, one PatchSet per image seeded by its index, merged in image
// order, does not depend on the order the images finished in. It panics
// if the sets take a different number of patches per image or their images
// have different channel counts.
func (p *PatchSet) Merge(q *PatchSet) {
	if q.perImage != p.perImage || (p.channels != 0 && q.channels != 0 && q.channels != p.channels) {
		panic(fmt.Sprintf("metrics: merging a set of %d patches per image and %d channels into one of %d and %d",
			q.perImage, q.channels, p.perImage, p.channels))
	}
	if p.channels == 0 {
		p.channels = q.channels
	}
	for l, d := range q.desc {
		if l == len(p.desc) {
			p.desc = append(p.desc, nil)
		}
		p.desc[l] = append(p.desc[l], d...)
	}
	p.images += q.images
}

// SWD returns the sliced Wasserstein distance between the patch
// distributions of a and b at each pyramid level, finest first.
//
// At every level each set's descriptors are standardised on their own, per
// channel, over all its patches and the 49 positions (a constant channel is
// only centred): as in the paper, this makes the distance compare the shape
// of the local structure, not its contrast or brightness — use
// HighFrequencyRatio for the amount of detail. Then directions random unit
// directions in ℝ^(49·C) (normalised Gaussians from a PCG seeded with
// (seed, level), shared by both sets) are drawn, both sets are projected on
// each, and the distance is the mean over directions of the exact 1-D
// Wasserstein-1 distance between the two projected samples. For equal sizes
// that is the mean absolute difference of the sorted projections, as in the
// paper; for unequal sizes it is ∫₀¹ |F⁻¹(t) − G⁻¹(t)| dt between the two
// empirical quantile functions, with no resampling.
//
// The values are raw; the paper reports them multiplied by 10³ and uses 512
// directions. It is an error if directions < 1, a set has no patches at a
// level the other has (including an empty set), or the channel counts
// differ.
func SWD(a, b *PatchSet, directions int, seed uint64) ([]float64, error) {
	if directions < 1 {
		return nil, fmt.Errorf("metrics: %d SWD directions", directions)
	}
	n := max(len(a.desc), len(b.desc))
	if n == 0 {
		return nil, errors.New("metrics: SWD of empty patch sets")
	}
	if len(a.desc) != len(b.desc) {
		return nil, fmt.Errorf("metrics: level %d has no patches in one set (%d and %d levels)",
			min(len(a.desc), len(b.desc)), len(a.desc), len(b.desc))
	}
	if a.channels != b.channels {
		return nil, fmt.Errorf("metrics: SWD of %d- and %d-channel patch sets", a.channels, b.channels)
	}
	d := patchSize * patchSize * a.channels
	out := make([]float64, n)
	dir := make([]float64, d)
	for l := range n {
		da, db := standardise(a.desc[l], a.channels), standardise(b.desc[l], b.channels)
		pa, pb := make([]float64, len(da)/d), make([]float64, len(db)/d)
		r := rand.New(rand.NewPCG(seed, uint64(l)))
		var sum float64
		for range directions {
			var norm float64
			for i := range dir {
				dir[i] = r.NormFloat64()
				norm += dir[i] * dir[i]
			}
			norm = math.Sqrt(norm)
			for i := range dir {
				dir[i] /= norm
			}
			project(da, dir, pa)
			project(db, dir, pb)
			slices.Sort(pa)
			slices.Sort(pb)
			sum += sortedW1(pa, pb)
		}
		out[l] = sum / float64(directions)
	}
	return out, nil
}

// HighFrequencyRatio returns the energy (sum of squares over all channels)
// of the finest Laplacian level of x divided by that of ref, both c
// channels of h×w pixels clipped and mapped to [0, 1] first: 1 means as
// much fine detail as the truth, below 1 a blurry restoration, above 1 a
// noisy one. The finest level is x minus the upsampled next Gaussian level,
// built as in PatchSet but regardless of the 16 px floor, so any size works.
// It is +Inf or NaN when ref has no fine detail at all.
func HighFrequencyRatio(x, ref []float64, c, h, w int) float64 {
	mustMatch(x, ref)
	if len(x) != c*h*w {
		panic(fmt.Sprintf("metrics: %d values are not %d×%d×%d", len(x), c, h, w))
	}
	energy := func(v []float64) float64 {
		lap, _ := detail(plane{unitCopy(v), h, w}, c)
		var e float64
		for _, d := range lap.v {
			e += d * d
		}
		return e
	}
	return energy(x) / energy(ref)
}

// plane is a planar image of some channels of h×w pixels.
type plane struct {
	v    []float64
	h, w int
}

func unitCopy(x []float64) []float64 {
	u := make([]float64, len(x))
	for i, v := range x {
		u[i] = unit(v)
	}
	return u
}

// laplacianPyramid decomposes x, c channels of h×w, into at most levels
// Laplacian levels, finest first, stopping before a side would be below
// minLevelSide; the last level is the Gaussian residual and may alias x.
func laplacianPyramid(x []float64, c, h, w, levels int) []plane {
	g := plane{x, h, w}
	var pyr []plane
	for len(pyr) < levels-1 && (g.h+1)/2 >= minLevelSide && (g.w+1)/2 >= minLevelSide {
		var lap plane
		lap, g = detail(g, c)
		pyr = append(pyr, lap)
	}
	return append(pyr, g)
}

// detail splits g into its Laplacian level g − up(down(g)) and the next
// Gaussian level down(g).
func detail(g plane, c int) (lap, next plane) {
	b := blur(g, c, 1)
	next = plane{make([]float64, c*((g.h+1)/2)*((g.w+1)/2)), (g.h + 1) / 2, (g.w + 1) / 2}
	for k := range c {
		for i := range next.h {
			for j := range next.w {
				next.v[(k*next.h+i)*next.w+j] = b.v[(k*g.h+2*i)*g.w+2*j]
			}
		}
	}
	lap = upsample(next, c, g.h, g.w)
	for i := range lap.v {
		lap.v[i] = g.v[i] - lap.v[i]
	}
	return lap, next
}

// upsample expands g to h×w the Burt–Adelson way: g on the even pixels,
// zeros between, blurred with gain 4 to restore the mean.
func upsample(g plane, c, h, w int) plane {
	z := plane{make([]float64, c*h*w), h, w}
	for k := range c {
		for i := range g.h {
			for j := range g.w {
				z.v[(k*h+2*i)*w+2*j] = g.v[(k*g.h+i)*g.w+j]
			}
		}
	}
	return blur(z, c, 4)
}

// blur convolves every channel of g with the separable binomial kernel
// under mirror padding and scales by gain.
func blur(g plane, c int, gain float64) plane {
	h, w := g.h, g.w
	tmp := make([]float64, len(g.v))
	out := plane{make([]float64, len(g.v)), h, w}
	for k := range c {
		src, dst := g.v[k*h*w:(k+1)*h*w], tmp[k*h*w:(k+1)*h*w]
		for i := range h {
			for j := range w {
				var s float64
				for t, wt := range binomial {
					s += wt * src[i*w+mirror(j+t-2, w)]
				}
				dst[i*w+j] = s
			}
		}
		src, dst = dst, out.v[k*h*w:(k+1)*h*w]
		for i := range h {
			for j := range w {
				var s float64
				for t, wt := range binomial {
					s += wt * src[mirror(i+t-2, h)*w+j]
				}
				dst[i*w+j] = gain * s
			}
		}
	}
	return out
}

// mirror reflects index i into [0, n) about the edge samples without
// repeating them (scipy's "mirror"), which keeps the parity of i and so
// keeps zero-inserted upsampling consistent at the borders.
func mirror(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// standardise returns a copy of the descriptors in desc with each channel's
// 49-value block shifted to mean 0 and scaled to deviation 1 over the set.
func standardise(desc []float64, c int) []float64 {
	out := slices.Clone(desc)
	const block = patchSize * patchSize
	d := block * c
	count := float64(len(out) / c)
	for k := range c {
		var mean, sq float64
		for i := k * block; i < len(out); i += d {
			for _, v := range out[i : i+block] {
				mean += v
			}
		}
		mean /= count
		for i := k * block; i < len(out); i += d {
			for _, v := range out[i : i+block] {
				sq += (v - mean) * (v - mean)
			}
		}
		scale := 1.0
		if sd := math.Sqrt(sq / count); sd > 0 {
			scale = 1 / sd
		}
		for i := k * block; i < len(out); i += d {
			for j := i; j < i+block; j++ {
				out[j] = (out[j] - mean) * scale
			}
		}
	}
	return out
}

// project writes the dot product of each descriptor in desc with dir to out.
func project(desc, dir, out []float64) {
	d := len(dir)
	for n := range out {
		var s float64
		for i, v := range desc[n*d : (n+1)*d] {
			s += v * dir[i]
		}
		out[n] = s
	}
}

// sortedW1 returns the Wasserstein-1 distance between the empirical
// distributions of the sorted, non-empty samples p and q: ∫₀¹ |P⁻¹(t) −
// Q⁻¹(t)| dt, where the quantile functions step at i/len(p) and j/len(q).
// It walks the merged steps in integer units of 1/(len(p)·len(q)), so the
// step widths are exact; equal sizes reduce to the mean absolute difference.
func sortedW1(p, q []float64) float64 {
	n, m := int64(len(p)), int64(len(q))
	var i, j, pos int64
	var sum float64
	for i < n && j < m {
		nextP, nextQ := (i+1)*m, (j+1)*n
		next := min(nextP, nextQ)
		sum += float64(next-pos) * math.Abs(p[i]-q[j])
		pos = next
		if nextP == next {
			i++
		}
		if nextQ == next {
			j++
		}
	}
	return sum / (float64(n) * float64(m))
}
