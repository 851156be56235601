package engine

import (
	"fmt"
	"image"

	"conjure/gpu"
	"conjure/imaging"
	"conjure/operator"
	"conjure/restore"
	"conjure/sampler"
)

// MaxSteps bounds Request.Steps: each step is one network evaluation and
// its VJP, and a person waits for them.
const MaxSteps = 100

// Request is one restoration, as the JavaScript API passes it.
type Request struct {
	Task          string // sr4, sr4box, inpaint, deblur or gray
	Pixels        []byte // RGBA input, Width×Height
	Width, Height int
	Mask          []byte // RGBA keep-mask (white = keep), Width×Height; inpaint only
	Steps         int    // network evaluations, 1…MaxSteps
	Method        string // cpigdm or pigdm
	Seed          uint64 // seed of the initial noise, as `conjure restore --seed`
}

// Result is a restored image.
type Result struct {
	Pixels []byte // RGBA, Size×Size
	Size   int
	// Resized reports that the input (and mask) had another size than the
	// task takes and were centre-cropped and resized.
	Resized bool
}

// Restore runs r on the engine's backend, calling progress(done, total)
// after each step, and returns the R×R result. A failure of the GPU
// backend switches the engine to the CPU for later requests, with a
// notice, and is returned as an error.
func (e *Engine) Restore(r Request, progress func(done, total int)) (Result, error) {
	task, o, err := e.check(r)
	if err != nil {
		return Result{}, err
	}
	res := e.m.Config().Resolution
	img, err := rgba(r.Pixels, r.Width, r.Height, "input")
	if err != nil {
		return Result{}, err
	}
	keep, maskResized, err := e.keep(task, r, res)
	if err != nil {
		return Result{}, err
	}
	op, err := restore.Operator(task, res, keep)
	if err != nil {
		return Result{}, err
	}
	obs, resized, err := imaging.Fit(img, restore.ObservedSide(task, res))
	if err != nil {
		return Result{}, fmt.Errorf("input: %w", err)
	}
	y := restore.Measurement(op, obs)
	x, err := e.run(op, y, o, r.Seed, progress)
	if err != nil {
		return Result{}, err
	}
	out, err := imaging.Image(x, restore.Channels, res, res)
	if err != nil {
		return Result{}, err
	}
	return Result{Pixels: out.Pix, Size: res, Resized: resized || maskResized}, nil
}

// check validates what can be checked before any work: the task, the
// method and steps, the pixel buffer sizes.
func (e *Engine) check(r Request) (restore.Task, sampler.Options, error) {
	task, err := restore.ParseTask(r.Task)
	if err != nil {
		return "", sampler.Options{}, err
	}
	m := sampler.Method(r.Method)
	if m != sampler.CPiGDM && m != sampler.PiGDM {
		return "", sampler.Options{}, fmt.Errorf("method %q: use cpigdm or pigdm", r.Method)
	}
	if r.Steps < 1 || r.Steps > MaxSteps {
		return "", sampler.Options{}, fmt.Errorf("steps %d: use 1 to %d (5 is the default)", r.Steps, MaxSteps)
	}
	o := restore.Options(restore.PriorFace, task, m, r.Steps, 0)
	if _, err := o.Validate(); err != nil {
		return "", sampler.Options{}, err
	}
	return task, o, nil
}

// keep returns the inpainting keep-mask at the model's resolution: the
// mask as it is when it is R×R (as the command line requires), else fitted
// like the input. Other tasks ignore the mask.
func (e *Engine) keep(t restore.Task, r Request, res int) ([]bool, bool, error) {
	if t != restore.Inpaint {
		return nil, false, nil
	}
	if r.Mask == nil {
		return nil, false, fmt.Errorf("inpainting needs a mask the size of the input (white = keep, black = fill)")
	}
	img, err := rgba(r.Mask, r.Width, r.Height, "mask")
	if err != nil {
		return nil, false, err
	}
	if r.Width == res && r.Height == res {
		return imaging.Mask(img), false, nil
	}
	x, _, err := imaging.Fit(img, res)
	if err != nil {
		return nil, false, fmt.Errorf("mask: %w", err)
	}
	keep := make([]bool, res*res)
	for i := range keep {
		// Luminance ≥ half, as imaging.Mask decides, on the resized
		// planar values in [−1, 1].
		lum := 0.299*x[i] + 0.587*x[res*res+i] + 0.114*x[2*res*res+i]
		keep[i] = lum >= 0
	}
	return keep, true, nil
}

// rgba wraps RGBA pixels as an image, checking their size first.
func rgba(pix []byte, w, h int, what string) (*image.NRGBA, error) {
	switch {
	case w < 1 || h < 1:
		return nil, fmt.Errorf("%s is %d×%d: give an image with pixels", what, w, h)
	case w*h > imaging.MaxPixels:
		return nil, fmt.Errorf("%s is %d×%d, over %d pixels: crop or shrink it first", what, w, h, imaging.MaxPixels)
	case len(pix) != 4*w*h:
		return nil, fmt.Errorf("%s has %d bytes, want %d for %d×%d RGBA", what, len(pix), 4*w*h, w, h)
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}

// run restores y with the engine's backend, as `conjure restore` does. On
// the GPU it frees the request's vectors and operator tables afterwards,
// and turns a panic of the GPU backend (whose methods cannot return
// errors) into an error and a switch to the CPU.
func (e *Engine) run(op operator.Operator, y []float64, o sampler.Options, seed uint64, progress func(done, total int)) (x []float64, err error) {
	cb := func(s sampler.Step) {
		if progress != nil {
			progress(s.I, s.N)
		}
	}
	if e.dev == nil {
		return restore.Run(e.b, op, y, 0, o, seed, cb)
	}
	wait := make([]float64, 1)
	gpuCB := func(s sampler.Step) {
		// The step is only recorded: wait for the device to run it.
		if err := e.probe.Read(wait); err != nil {
			panic(err)
		}
		cb(s)
	}
	gb := e.b.(*gpu.Backend)
	t := &tracked{Backend: gb}
	defer func() {
		if r := recover(); r != nil {
			e.useCPU(fmt.Sprintf("WebGPU failed during a restore (%v), so Conjure now runs on the CPU, which is much slower.", r))
			x, err = nil, fmt.Errorf("the GPU failed (%v): try again, Conjure now uses the CPU", r)
		}
	}()
	defer gb.Forget(op)
	x, err = restore.Run(t, op, y, 0, o, seed, gpuCB)
	if derr := t.destroy(); err == nil && derr != nil {
		return nil, derr
	}
	return x, err
}

// tracked is a GPU backend that remembers the vectors it makes, so that a
// restore frees them when it ends: the collector never frees device memory.
type tracked struct {
	*gpu.Backend
	vecs []*gpu.Buffer
}

// NewVec returns a zeroed vector of n elements and remembers it.
func (t *tracked) NewVec(n int) sampler.Vec {
	v := t.Backend.NewVec(n)
	t.vecs = append(t.vecs, v.(*gpu.Buffer))
	return v
}

// destroy frees the remembered vectors and returns the first error.
func (t *tracked) destroy() error {
	var first error
	for _, v := range t.vecs {
		if err := v.Destroy(); err != nil && first == nil {
			first = err
		}
	}
	t.vecs = nil
	return first
}
