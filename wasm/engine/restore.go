package engine

import (
	"fmt"
	"image"
	"time"

	"conjure/gpu"
	"conjure/imaging"
	"conjure/operator"
	"conjure/restore"
	"conjure/sampler"
)

// MaxSteps bounds Request.Steps: each step is one network evaluation and
// its VJP over every tile, and a person waits for them.
const MaxSteps = 100

// Request is one restoration, as the JavaScript API passes it.
type Request struct {
	Task          string // sr4, sr2, sr4box, inpaint, deblur, denoise or gray
	Pixels        []byte // RGBA input, Width×Height
	Width, Height int
	Mask          []byte // RGBA keep-mask (white = keep), Width×Height; inpaint only
	Steps         int    // sampler steps, 1…MaxSteps
	Method        string // cpigdm or pigdm
	Seed          uint64 // seed of the initial noise, as `conjure restore --seed`
	// SigmaY is the measurement noise, as `conjure restore --sigma-y`;
	// nil means the task's default (restore.DefaultSigmaY).
	SigmaY *float64
}

// Result is a restored image.
type Result struct {
	Pixels        []byte // RGBA, Width×Height
	Width, Height int
	// Resized reports that a framed model's input (and mask) had another
	// size than the task takes and were centre-cropped and resized.
	Resized bool
	Backend string // what ran it: WebGPU or CPU
}

// job is a checked request: what the sampler runs.
type job struct {
	task   restore.Task
	o      sampler.Options
	sigmaY float64 // the measurement's noise: Request.SigmaY or the task's default, as the CLI's
}

// Restore runs r on the engine's backend, calling progress(done, total)
// as tile-steps finish and, when preview is not nil, preview after every
// step (the last one with the result), and returns the result. A failure
// of the GPU backend switches the engine to the CPU for later requests,
// with a notice, and is returned as an error.
func (e *Engine) Restore(r Request, progress func(done, total int), preview func(Preview)) (Result, error) {
	j, err := e.check(r)
	if err != nil {
		return Result{}, err
	}
	var res Result
	var pv *previews
	if e.prior == restore.PriorFace {
		res, pv, err = e.restoreFramed(j, r, progress, preview)
	} else {
		res, pv, err = e.restorePhoto(j, r, progress, preview)
	}
	if err != nil {
		return Result{}, err
	}
	pv.done(res, j.o.Steps)
	return res, nil
}

// Check returns the error Restore would return for r's task, method,
// steps and size, without looking at the pixels: the Worker calls it
// before copying them, so an over-size photo is refused before its bytes
// are.
func (e *Engine) Check(r Request) error {
	_, err := e.check(r)
	return err
}

// check validates what can be checked before any work: the task, the
// method and steps, and the size (restore.CheckSize's limits for a photo
// model).
func (e *Engine) check(r Request) (job, error) {
	task, err := restore.ParseTask(r.Task)
	if err != nil {
		return job{}, err
	}
	m := sampler.Method(r.Method)
	if m != sampler.CPiGDM && m != sampler.PiGDM {
		return job{}, fmt.Errorf("method %q: use cpigdm or pigdm", r.Method)
	}
	if r.Steps < 1 || r.Steps > MaxSteps {
		return job{}, fmt.Errorf("steps %d: use 1 to %d (5 is the default)", r.Steps, MaxSteps)
	}
	if e.prior == restore.PriorPhoto {
		if err := restore.CheckSize(task, r.Width, r.Height); err != nil {
			return job{}, err
		}
	} else if err := checkFramedSize(r.Width, r.Height, "input"); err != nil {
		return job{}, err
	}
	sigmaY := restore.DefaultSigmaY(task)
	if r.SigmaY != nil {
		if err := restore.CheckSigmaY(*r.SigmaY); err != nil {
			return job{}, err
		}
		sigmaY = *r.SigmaY
	}
	o := restore.Options(e.prior, task, m, r.Steps, sigmaY)
	if _, err := o.Validate(); err != nil {
		return job{}, err
	}
	return job{task: task, o: o, sigmaY: sigmaY}, nil
}

// checkFramedSize bounds what a framed model crops and resizes.
func checkFramedSize(w, h int, what string) error {
	switch {
	case w < 1 || h < 1:
		return fmt.Errorf("%s is %d×%d: give an image with pixels", what, w, h)
	case int64(w)*int64(h) > imaging.MaxPixels:
		return fmt.Errorf("%s is %d×%d, over %d pixels: crop or shrink it first", what, w, h, imaging.MaxPixels)
	}
	return nil
}

// restoreFramed restores the R×R frame of the input's centred square, as
// the command line does for a framed model. It returns the previews too,
// for Restore to end them with the result.
func (e *Engine) restoreFramed(j job, r Request, progress func(done, total int), preview func(Preview)) (Result, *previews, error) {
	res := e.m.Config().Resolution
	img, err := rgba(r.Pixels, r.Width, r.Height, "input")
	if err != nil {
		return Result{}, nil, err
	}
	keep, maskResized, err := e.keep(j.task, r, res)
	if err != nil {
		return Result{}, nil, err
	}
	op, err := restore.Operator(j.task, res, keep)
	if err != nil {
		return Result{}, nil, err
	}
	obs, resized, err := imaging.Fit(img, restore.ObservedSide(j.task, res))
	if err != nil {
		return Result{}, nil, fmt.Errorf("input: %w", err)
	}
	y := restore.Measurement(op, obs)
	count := newTileSteps(1, j.o.Steps, passCosts(true), progress)
	pv := newPreviews(preview, func(x []float64) []float64 { return x }, res, res)
	start := time.Now()
	var x []float64
	backend := e.backend
	if e.dev == nil {
		x, err = restore.RunTask(e.framed, j.task, op, y, j.sigmaY, j.o, r.Seed, func(s sampler.Step) {
			count.step(s)
			pv.step(e.framed, s)
		})
	} else {
		x, err = e.onGPU(op, count, pv, func(b sampler.Backend, cb func(sampler.Step)) ([]float64, error) {
			return restore.RunTask(b, j.task, op, y, j.sigmaY, j.o, r.Seed, cb)
		})
	}
	if err != nil {
		return Result{}, nil, err
	}
	e.observe(backend, 1, j.o.Steps, time.Since(start))
	out, err := imaging.Image(x, restore.Channels, res, res)
	if err != nil {
		return Result{}, nil, err
	}
	return Result{Pixels: out.Pix, Width: res, Height: res, Resized: resized || maskResized, Backend: backend}, pv, nil
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

// rgba wraps RGBA pixels as an image, checking their length first.
func rgba(pix []byte, w, h int, what string) (*image.NRGBA, error) {
	if err := checkFramedSize(w, h, what); err != nil {
		return nil, err
	}
	if len(pix) != 4*w*h {
		return nil, fmt.Errorf("%s has %d bytes, want %d for %d×%d RGBA", what, len(pix), 4*w*h, w, h)
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}

// onGPU runs solve on the GPU backend, as `conjure restore` runs it. It
// waits for the device after each step, so that progress reports work
// done, and reads the step's preview back when pv asks for one; frees the
// request's vectors and op's tables afterwards; and turns a panic of the
// GPU backend (whose methods cannot return errors) into an error and a
// switch to the CPU.
func (e *Engine) onGPU(op operator.Operator, count *tileSteps, pv *previews, solve func(sampler.Backend, func(sampler.Step)) ([]float64, error)) (x []float64, err error) {
	t := &tracked{Backend: e.gb}
	cb := func(s sampler.Step) {
		e.wait()
		count.step(s)
		pv.step(t, s)
	}
	defer func() {
		if r := recover(); r != nil {
			e.useCPU(fmt.Sprintf("WebGPU failed during a restore (%v), so Conjure now runs on the CPU, which is much slower.", r))
			x, err = nil, fmt.Errorf("the GPU failed (%v): try again, Conjure now uses the CPU", r)
		}
	}()
	defer e.gb.Forget(op)
	x, err = solve(t, cb)
	if derr := t.destroy(); err == nil && derr != nil {
		return nil, derr
	}
	return x, err
}

// wait blocks until the device has run the work recorded so far: reading
// a buffer back submits the pending batch and waits for it.
func (e *Engine) wait() {
	probe := make([]float64, 1)
	if err := e.probe.Read(probe); err != nil {
		panic(err)
	}
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
