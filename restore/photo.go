package restore

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"conjure/imaging"
	"conjure/operator"
	"conjure/sampler"
)

// Whole-photo limits. The network runs over the whole image for
// super-resolution, deblurring and denoising, so their size is bounded by
// the work it takes; inpainting and colourisation run the network at a
// working size and touch the full image only to paste and recombine.
const (
	MinSide        = 16    // every input side, in pixels
	MaxSide        = 2048  // output side of sr4, sr2, sr4box, deblur, denoise
	MaxPasteSide   = 4096  // input side of inpaint and gray
	DefaultWork    = 256   // working side of inpaint's window and of gray's colours
	DenoiseSigma   = 0.05  // denoise's default measurement noise, in [−1, 1] units (DefaultSigmaY)
	DeblurSigma    = 0.005 // deblur's: 8-bit rounding (0.0023) and mild compression
	InpaintContext = 32    // least context kept around the holes, in pixels
)

// DefaultSigmaY returns the measurement noise a task assumes when a person
// does not say: DenoiseSigma for denoising, DeblurSigma for deblurring, 0
// (an exact measurement) otherwise. Chosen by measurement on the tuning
// photos (docs/EVALUATION.md, session 12): with the noisy sampler, an 8-bit
// deblur restores 0.2 dB better assuming σ_y = 0.005 than 0, and stays
// stable at a larger w; 4× SR gains nothing from 0.005 or 0.01, nor
// colourisation from 0.005.
func DefaultSigmaY(t Task) float64 {
	switch t {
	case Denoise:
		return DenoiseSigma
	case Deblur:
		return DeblurSigma
	}
	return 0
}

// CheckSigmaY checks a measurement noise a person gave.
func CheckSigmaY(s float64) error {
	if !(s >= 0) || math.IsInf(s, 0) {
		return fmt.Errorf("measurement noise σ_y = %v: use a finite value ≥ 0 in [−1, 1] units (0: an exact measurement; 0.05 is heavy noise)", s)
	}
	return nil
}

// Factor returns the upscaling factor of task t: 4 for sr4 and sr4box, 2 for
// sr2, 1 otherwise.
func Factor(t Task) int {
	switch t {
	case SR4, SR4Box:
		return 4
	case SR2:
		return 2
	}
	return 1
}

// SizeError is an input whose size a task refuses; its message says the
// limit and what to do.
type SizeError struct{ Msg string }

// Error returns the message.
func (e *SizeError) Error() string { return e.Msg }

// CheckSize checks a w×h input for task t against the whole-photo limits.
// Callers check the size read from the file's header, before decoding it.
func CheckSize(t Task, w, h int) error {
	f := Factor(t)
	switch {
	case w < MinSide || h < MinSide:
		return &SizeError{fmt.Sprintf("the input is %d×%d; %s needs at least %d×%d pixels: use a larger photo", w, h, t, MinSide, MinSide)}
	case t == Inpaint || t == Gray:
		if w > MaxPasteSide || h > MaxPasteSide {
			return &SizeError{fmt.Sprintf("the input is %d×%d; %s works on photos up to %d×%d: downscale it first", w, h, t, MaxPasteSide, MaxPasteSide)}
		}
	case f*w > MaxSide || f*h > MaxSide:
		if f > 1 {
			return &SizeError{fmt.Sprintf("the input is %d×%d, so the %d× output would be %d×%d; %s makes outputs up to %d×%d: use an input of at most %d×%d, or crop it",
				w, h, f, f*w, f*h, t, MaxSide, MaxSide, MaxSide/f, MaxSide/f)}
		}
		return &SizeError{fmt.Sprintf("the input is %d×%d; %s works on photos up to %d×%d: downscale or crop it first", w, h, t, MaxSide, MaxSide)}
	}
	return nil
}

// Photo is one whole-photo restoration request: the observed image at its
// own size and what the task needs besides it.
type Photo struct {
	Task Task
	// Input is the observation, planar Channels×H×W in [−1, 1]: the
	// low-resolution photo for super-resolution, the damaged photo for
	// inpainting (any values in the holes), the blurred, noisy or grayscale
	// photo otherwise.
	Input []float64
	H, W  int
	// Keep is inpainting's keep-mask, H·W entries, true = keep.
	Keep []bool
	// SigmaY is the noise the measurement carries (denoise: the noise to
	// remove; 0 means DenoiseSigma there).
	SigmaY float64
	// Work is the working side for inpainting's window and colourisation's
	// colours (0: DefaultWork).
	Work int
}

// Problem is what the sampler solves for a Photo, and how its solution
// becomes the output image.
type Problem struct {
	Task   Task
	Op     operator.Operator
	Y      []float64
	H, W   int // the image the sampler restores (Channels×H×W)
	SigmaY float64
	// Start is where the sampler begins (StartFor).
	Start sampler.Start
	// OutH, OutW are the output image's size.
	OutH, OutW int
	finish     func(x []float64) []float64
}

// Finish returns the output image (planar, Channels×OutH×OutW, in
// [−1, 1] except where a task leaves the sampler's values as they are)
// from the sampler's solution x.
func (p *Problem) Finish(x []float64) []float64 { return p.finish(x) }

// Problem returns the sampler problem of the request, with the task's
// start (StartFor). It checks the size (CheckSize), the input's length and
// the mask.
func (ph Photo) Problem() (*Problem, error) {
	p, err := ph.problem()
	if err != nil {
		return nil, err
	}
	p.Task = ph.Task
	if p.Start, err = StartFor(ph.Task, p.Op, p.Y, p.SigmaY); err != nil {
		return nil, err
	}
	return p, nil
}

// problem is Problem without the start.
func (ph Photo) problem() (*Problem, error) {
	if err := CheckSize(ph.Task, ph.W, ph.H); err != nil {
		return nil, err
	}
	if len(ph.Input) != Channels*ph.H*ph.W {
		return nil, fmt.Errorf("restore: input has %d values, want %d×%d×%d", len(ph.Input), Channels, ph.H, ph.W)
	}
	if !(ph.SigmaY >= 0) || math.IsInf(ph.SigmaY, 0) {
		return nil, fmt.Errorf("restore: measurement noise %v: need a finite value ≥ 0", ph.SigmaY)
	}
	work := ph.Work
	if work == 0 {
		work = DefaultWork
	}
	if work < MinSide {
		return nil, fmt.Errorf("restore: working side %d is below %d", work, MinSide)
	}
	if ph.Task != Inpaint && ph.Keep != nil {
		return nil, errors.New("restore: a mask is only for inpainting")
	}
	switch ph.Task {
	case SR4, SR2, SR4Box:
		f := Factor(ph.Task)
		h, w := f*ph.H, f*ph.W
		var op operator.Operator
		var err error
		if ph.Task == SR4Box {
			op, err = operator.NewBoxSR(Channels, h, w, f)
		} else {
			op, err = operator.NewBicubicSR(Channels, h, w, f)
		}
		if err != nil {
			return nil, err
		}
		return whole(op, ph.Input, h, w, ph.SigmaY), nil
	case Deblur:
		k, err := operator.GaussianKernel(BlurSigma, BlurRadius)
		if err != nil {
			return nil, err
		}
		op, err := operator.NewBlur(Channels, ph.H, ph.W, k, operator.DefaultBlurThreshold)
		if err != nil {
			return nil, err
		}
		return whole(op, ph.Input, ph.H, ph.W, ph.SigmaY), nil
	case Denoise:
		op, err := operator.NewIdentity(Channels, ph.H, ph.W)
		if err != nil {
			return nil, err
		}
		s := ph.SigmaY
		if s == 0 {
			s = DenoiseSigma
		}
		return whole(op, ph.Input, ph.H, ph.W, s), nil
	case Gray:
		return ph.colourise(work)
	case Inpaint:
		return ph.inpaint(work)
	}
	return nil, fmt.Errorf("restore: unknown task %q", ph.Task)
}

// whole is a problem over the whole image whose output is the solution.
func whole(op operator.Operator, y []float64, h, w int, sigmaY float64) *Problem {
	return &Problem{Op: op, Y: y, H: h, W: w, SigmaY: sigmaY, OutH: h, OutW: w,
		finish: func(x []float64) []float64 { return x }}
}

// FitWithin returns the size of an h×w image scaled down (never up) so
// that neither side exceeds side, keeping each side at least MinSide: the
// size inpainting's window and colourisation's colours are restored at.
func FitWithin(h, w, side int) (int, int) {
	if h <= side && w <= side {
		return h, w
	}
	s := float64(side) / float64(max(h, w))
	return max(MinSide, int(math.Round(float64(h)*s))), max(MinSide, int(math.Round(float64(w)*s)))
}

// colourise restores colours at a working size and recombines them with
// the full-resolution luminance (the channel mean Gray measures), so the
// output's luminance is the input's.
func (ph Photo) colourise(work int) (*Problem, error) {
	full := channelMean(ph.Input, ph.H, ph.W)
	h, w := FitWithin(ph.H, ph.W, work)
	small := ph.Input
	if h != ph.H || w != ph.W {
		small = imaging.Shrink(ph.Input, Channels, ph.H, ph.W, h, w)
	}
	op, err := operator.NewGray(Channels, h, w)
	if err != nil {
		return nil, err
	}
	y := make([]float64, op.Out())
	op.Forward(y, small)
	return &Problem{Op: op, Y: y, H: h, W: w, SigmaY: ph.SigmaY, OutH: ph.H, OutW: ph.W,
		finish: func(x []float64) []float64 {
			chroma := x
			if h != ph.H || w != ph.W {
				chroma = imaging.Resize(x, Channels, h, w, ph.H, ph.W)
			}
			return withLuminance(full, chroma, ph.H, ph.W)
		}}, nil
}

// channelMean returns the per-pixel mean of the Channels planes.
func channelMean(x []float64, h, w int) []float64 {
	n := h * w
	m := make([]float64, n)
	for i := range m {
		var s float64
		for c := range Channels {
			s += x[c*n+i]
		}
		m[i] = s / Channels
	}
	return m
}

// withLuminance returns lum + α·(x − mean(x)) per pixel: x's colour around
// the given luminance, with α ≤ 1 the largest that keeps every channel in
// [−1, 1], so the output's channel mean is lum exactly and clipping never
// shifts it.
func withLuminance(lum, x []float64, h, w int) []float64 {
	n := h * w
	out := make([]float64, Channels*n)
	for i, l := range lum {
		l = math.Max(-1, math.Min(1, l))
		var m float64
		for c := range Channels {
			m += x[c*n+i]
		}
		m /= Channels
		alpha := 1.0
		for c := range Channels {
			d := x[c*n+i] - m
			if d > 0 && l+d > 1 {
				alpha = math.Min(alpha, (1-l)/d)
			} else if d < 0 && l+d < -1 {
				alpha = math.Min(alpha, (-1-l)/d)
			}
		}
		for c := range Channels {
			out[c*n+i] = l + alpha*(x[c*n+i]-m)
		}
	}
	return out
}

// window is a rectangle of the photo: rows [Y0, Y1), columns [X0, X1).
type window struct{ Y0, Y1, X0, X1 int }

func (r window) h() int { return r.Y1 - r.Y0 }
func (r window) w() int { return r.X1 - r.X0 }

// holeWindow returns the holes' bounding box grown by a margin of context
// (InpaintContext or a quarter of the box's longer side, whichever is
// larger) and to at least 64×64 where the photo allows, clamped to the
// photo; ok is false when nothing is to be filled.
func holeWindow(keep []bool, h, w int) (r window, ok bool) {
	r = window{h, 0, w, 0}
	for i := range h {
		for j := range w {
			if !keep[i*w+j] {
				r.Y0, r.Y1 = min(r.Y0, i), max(r.Y1, i+1)
				r.X0, r.X1 = min(r.X0, j), max(r.X1, j+1)
			}
		}
	}
	if r.Y1 == 0 {
		return r, false
	}
	m := max(InpaintContext, max(r.h(), r.w())/4)
	grow := func(lo, hi, n, least int) (int, int) {
		lo, hi = lo-m, hi+m
		if d := least - (hi - lo); d > 0 {
			lo, hi = lo-d/2, hi+d-d/2
		}
		if lo < 0 {
			hi, lo = min(n, hi-lo), 0
		}
		if hi > n {
			lo, hi = max(0, lo-(hi-n)), n
		}
		return lo, hi
	}
	r.Y0, r.Y1 = grow(r.Y0, r.Y1, h, 64)
	r.X0, r.X1 = grow(r.X0, r.X1, w, 64)
	return r, true
}

// inpaint restores a window around the holes, at the working size when
// the window is larger, and pastes only the hole pixels back: every kept
// pixel of the output is the input's.
func (ph Photo) inpaint(work int) (*Problem, error) {
	if ph.Keep == nil {
		return nil, errors.New("inpainting needs a mask (white = keep, black = fill)")
	}
	if len(ph.Keep) != ph.H*ph.W {
		return nil, fmt.Errorf("the mask has %d pixels, want %d×%d, the photo's size", len(ph.Keep), ph.W, ph.H)
	}
	win, ok := holeWindow(ph.Keep, ph.H, ph.W)
	if !ok {
		return nil, errors.New("the mask has no black pixels, so there is nothing to fill: paint the areas to restore black")
	}
	wh, ww := win.h(), win.w()
	crop := cropPlanes(ph.Input, Channels, ph.H, ph.W, win)
	holes := make([]float64, wh*ww)
	for i := range wh {
		for j := range ww {
			if !ph.Keep[(win.Y0+i)*ph.W+win.X0+j] {
				holes[i*ww+j] = 1
			}
		}
	}
	h, w := FitWithin(wh, ww, work)
	img := crop
	if h != wh || w != ww {
		// Area averaging: a working pixel is kept only if no hole pixel
		// lies in its footprint, so no damaged value leaks into y.
		img = imaging.Shrink(crop, Channels, wh, ww, h, w)
		holes = imaging.Shrink(holes, 1, wh, ww, h, w)
	}
	keep := make([]bool, h*w)
	for i, v := range holes {
		keep[i] = v == 0
	}
	op, err := operator.NewInpaint(Channels, h, w, keep)
	if err != nil {
		return nil, fmt.Errorf("the holes cover the whole working window: leave some of the photo around them unmasked (%w)", err)
	}
	y := make([]float64, op.Out())
	op.Forward(y, img)
	return &Problem{Op: op, Y: y, H: h, W: w, SigmaY: ph.SigmaY, OutH: ph.H, OutW: ph.W,
		finish: func(x []float64) []float64 {
			fill := x
			if h != wh || w != ww {
				fill = imaging.Resize(x, Channels, h, w, wh, ww)
			}
			out := make([]float64, len(ph.Input))
			copy(out, ph.Input)
			n := ph.H * ph.W
			for c := range Channels {
				for i := range wh {
					for j := range ww {
						if k := (win.Y0+i)*ph.W + win.X0 + j; !ph.Keep[k] {
							out[c*n+k] = fill[(c*wh+i)*ww+j]
						}
					}
				}
			}
			return out
		}}, nil
}

// cropPlanes returns the window r of every channel of a planar c×h×w
// image.
func cropPlanes(x []float64, c, h, w int, r window) []float64 {
	out := make([]float64, 0, c*r.h()*r.w())
	for k := range c {
		for i := r.Y0; i < r.Y1; i++ {
			out = append(out, x[(k*h+i)*w+r.X0:(k*h+i)*w+r.X1]...)
		}
	}
	return out
}

// CentreHole returns an h×w keep-mask whose centred hole covers a quarter
// of the area (half of each side).
func CentreHole(h, w int) []bool {
	keep := make([]bool, h*w)
	for i := range h {
		for j := range w {
			keep[i*w+j] = i < h/4 || i >= h-h/4 || j < w/4 || j >= w-w/4
		}
	}
	return keep
}

// Simulate degrades a ground-truth photo (planar, Channels×h×w) as task t
// would find it and returns the request to restore it with the ground truth
// it should give: for super-resolution the truth is cropped to a multiple
// of the factor and downscaled with the task's operator; inpainting keeps
// the pixels of keep (holes mid-grey); deblurring blurs; denoising adds
// noise of standard deviation sigmaY (DenoiseSigma if 0) seeded by seed;
// colourisation keeps the channel mean in every channel. sigmaY > 0 adds
// that noise to the other tasks' measurements too. The observation is then
// rounded to 8 bits, as a saved photo is: a real measurement is never
// exact. The Photo assumes the noise it was given, or the task's default
// (DefaultSigmaY) where sigmaY is 0, as `conjure restore` does.
func Simulate(t Task, truth []float64, h, w int, keep []bool, sigmaY float64, seed uint64) (Photo, []float64, error) {
	if len(truth) != Channels*h*w {
		return Photo{}, nil, fmt.Errorf("restore: truth has %d values, want %d×%d×%d", len(truth), Channels, h, w)
	}
	f := Factor(t)
	if err := CheckSize(t, w/f, h/f); err != nil {
		return Photo{}, nil, err
	}
	if t == Denoise && sigmaY == 0 {
		sigmaY = DenoiseSigma
	}
	noisy := func(y []float64) []float64 {
		if sigmaY > 0 {
			for i, n := range sampler.Noise(len(y), seed) {
				y[i] += sigmaY * n
			}
		}
		imaging.Quantize(y)
		return y
	}
	ph := Photo{Task: t, H: h, W: w, SigmaY: sigmaY}
	if sigmaY == 0 {
		ph.SigmaY = DefaultSigmaY(t)
	}
	switch t {
	case SR4, SR2, SR4Box:
		hh, ww := h/f*f, w/f*f
		truth = cropPlanes(truth, Channels, h, w, window{0, hh, 0, ww})
		p, err := Photo{Task: t, Input: make([]float64, Channels*hh*ww/(f*f)), H: hh / f, W: ww / f}.Problem()
		if err != nil {
			return Photo{}, nil, err
		}
		y := make([]float64, p.Op.Out())
		p.Op.Forward(y, truth)
		ph.Input, ph.H, ph.W = noisy(y), hh/f, ww/f
	case Inpaint:
		if len(keep) != h*w {
			return Photo{}, nil, fmt.Errorf("the mask has %d pixels, want %d×%d", len(keep), w, h)
		}
		ph.Keep = keep
		ph.Input = noisy(slices.Clone(truth))
		for c := range Channels {
			for i, k := range keep {
				if !k {
					ph.Input[c*h*w+i] = 0
				}
			}
		}
	case Deblur:
		p, err := Photo{Task: t, Input: truth, H: h, W: w}.Problem()
		if err != nil {
			return Photo{}, nil, err
		}
		y := make([]float64, p.Op.Out())
		p.Op.Forward(y, truth)
		ph.Input = noisy(y)
	case Denoise:
		ph.Input = noisy(slices.Clone(truth))
	case Gray:
		m := channelMean(truth, h, w)
		ph.Input = make([]float64, 0, len(truth))
		for range Channels {
			ph.Input = append(ph.Input, m...)
		}
		ph.Input = noisy(ph.Input)
	default:
		return Photo{}, nil, fmt.Errorf("restore: unknown task %q", t)
	}
	return ph, truth, nil
}

// RunPhoto solves the problem with backend b and returns the output image
// (Problem.Finish of the sampler's solution).
func RunPhoto(b sampler.Backend, p *Problem, o sampler.Options, seed uint64, cb func(sampler.Step)) ([]float64, error) {
	x, err := Run(b, p.Op, p.Y, p.SigmaY, o, p.Start, seed, cb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Task, err)
	}
	return p.Finish(x), nil
}
