// Package restore names the restoration tasks people ask for — 4× and 2×
// super-resolution, inpainting, deblurring, denoising, colourisation — and
// turns each into a degradation operator, a measurement and the sampler
// settings to use: the one place the command line, the web worker and the
// evaluation agree on what a task means.
//
// Two framings: a whole photo at its own size (Photo, for a local prior run
// on tiles), and the fixed R×R frame of a model trained on aligned crops
// such as faces (Operator, ObservedSide).
package restore

import (
	"fmt"
	"math"
	"slices"

	"conjure/operator"
	"conjure/sampler"
)

// Task names a restoration task.
type Task string

// The tasks.
const (
	SR4     Task = "sr4"     // 4× super-resolution, antialiased bicubic degradation
	SR2     Task = "sr2"     // 2× super-resolution, antialiased bicubic degradation
	SR4Box  Task = "sr4box"  // 4× super-resolution, 4×4 box-average degradation
	Inpaint Task = "inpaint" // fill the pixels a keep-mask marks as missing
	Deblur  Task = "deblur"  // Gaussian blur, σ = BlurSigma pixels
	Denoise Task = "denoise" // H = I with measurement noise σ_y
	Gray    Task = "gray"    // colourise a grayscale (channel-mean) image
)

// Tasks lists every Task.
var Tasks = []Task{SR4, SR2, SR4Box, Inpaint, Deblur, Denoise, Gray}

// The deblurring task's Gaussian kernel, in pixels at the model's
// resolution (about the σ = 3 px of the paper's 256 px images, scaled to
// 64 px and made a little harder so the task is visible).
const (
	BlurSigma  = 1.5
	BlurRadius = 4
)

// Channels is the number of colour channels of every task's image.
const Channels = 3

// ParseTask returns the Task named s.
func ParseTask(s string) (Task, error) {
	if t := Task(s); slices.Contains(Tasks, t) {
		return t, nil
	}
	return "", fmt.Errorf("unknown task %q (want one of %v)", s, Tasks)
}

// ObservedSide returns the side of the image a person supplies for task t
// when the model works at resolution r: r/Factor(t).
func ObservedSide(t Task, r int) int { return r / Factor(t) }

// Operator returns the degradation of task t on Channels×r×r images. keep is
// the inpainting keep-mask (r·r entries, true = keep) and is ignored by the
// other tasks.
func Operator(t Task, r int, keep []bool) (operator.Operator, error) {
	switch t {
	case SR4, SR2:
		return operator.NewBicubicSR(Channels, r, r, Factor(t))
	case SR4Box:
		return operator.NewBoxSR(Channels, r, r, 4)
	case Inpaint:
		if keep == nil {
			return nil, fmt.Errorf("inpainting needs a mask (white = keep, black = fill)")
		}
		if len(keep) != r*r {
			return nil, fmt.Errorf("mask has %d pixels, want %d×%d", len(keep), r, r)
		}
		return operator.NewInpaint(Channels, r, r, keep)
	case Deblur:
		k, err := operator.GaussianKernel(BlurSigma, BlurRadius)
		if err != nil {
			return nil, err
		}
		return operator.NewBlur(Channels, r, r, k, operator.DefaultBlurThreshold)
	case Gray:
		return operator.NewGray(Channels, r, r)
	case Denoise:
		return operator.NewIdentity(Channels, r, r)
	}
	return nil, fmt.Errorf("unknown task %q", t)
}

// Measurement returns y for op from the planar image a person supplied:
// the image itself when it already has y's size (super-resolution,
// deblurring), else H applied to it (the kept pixels of an inpainting
// input, the channel mean of a colourisation input).
func Measurement(op operator.Operator, img []float64) []float64 {
	if len(img) == op.Out() {
		return slices.Clone(img)
	}
	y := make([]float64, op.Out())
	op.Forward(y, img)
	return y
}

// Run restores y with the backend b from the start s and returns x_N
// (unclipped, planar). The initial noise comes from seed, so every backend
// starts alike. For a noiseless mask (inpainting) the kept pixels of x_N
// are then set to y's: the samplers' guidance only pulls x toward the
// measurement, and at a late start with a light w the pixels a person kept
// drift visibly. A run that diverges returns a *DivergedError.
func Run(b sampler.Backend, op operator.Operator, y []float64, sigmaY float64, o sampler.Options, s sampler.Start, seed uint64, cb func(sampler.Step)) ([]float64, error) {
	x, err := sampler.Solve(b, op, y, sigmaY, o, s, sampler.Noise(op.In(), seed), cb)
	if err != nil {
		return nil, err
	}
	for i, v := range x {
		if math.IsNaN(v) || math.Abs(v) > DivergedBound {
			return nil, &DivergedError{Options: o, SigmaY: sigmaY, Index: i, Value: v}
		}
	}
	if _, mask := op.(*operator.Inpaint); mask && sigmaY == 0 {
		paste(op, x, y)
	}
	return x, nil
}

// DivergedBound is how far outside the image range [−1, 1] a restored
// value may lie before the run counts as diverged. A diverging sampler
// grows exponentially (the noisy C-ΠGDM of ALGORITHM.md §3.8 on deblurring
// reaches 1e8 to 1e14 in five steps), while even an untrained random
// network's restorations stay within a few hundred.
const DivergedBound = 1e3

// DivergedError is a restoration whose values are not finite or lie far
// outside the image range: a setting the sampler cannot follow, never an
// image to show.
type DivergedError struct {
	Options sampler.Options
	SigmaY  float64
	Index   int     // the first offending value's position
	Value   float64 // and the value
}

// Error names the method and settings and says what to change.
func (e *DivergedError) Error() string {
	o := e.Options
	return fmt.Sprintf("the restoration diverged (value %v at %d) with %s, %d steps, w = %g, λ = %g, τ₀ = %g, σ_y = %g: "+
		"use the preset settings, a smaller w or fewer steps, or the pigdm method", e.Value, e.Index, o.Method, o.Steps, o.W, o.Lambda, o.Tau0, e.SigmaY)
}

// paste makes x consistent with a noiseless measurement y: x − H†H x + H† y,
// which for a mask sets the kept pixels to y's and leaves the rest.
func paste(op operator.Operator, x, y []float64) {
	proj := make([]float64, op.In())
	op.Project(proj, x)
	back := make([]float64, op.In())
	op.Pinv(back, y)
	for i := range x {
		x[i] += back[i] - proj[i]
	}
}

// RunTask restores y for task t from the task's start (StartFor), as Run
// does; its errors name the task. It is what the framed model's callers
// (the command line, the web worker, the evaluation) run.
func RunTask(b sampler.Backend, t Task, op operator.Operator, y []float64, sigmaY float64, o sampler.Options, seed uint64, cb func(sampler.Step)) ([]float64, error) {
	s, err := StartFor(t, op, y, sigmaY)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	x, err := Run(b, op, y, sigmaY, o, s, seed, cb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	return x, nil
}
