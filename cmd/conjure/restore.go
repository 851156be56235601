package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	goimage "image"
	"io"
	"math"
	"strings"
	"time"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/imaging"
	"conjure/metrics"
	"conjure/model"
	"conjure/models"
	"conjure/restore"
	"conjure/sampler"
	"conjure/tile"
)

const restoreSynopsis = `restore --task sr4|sr2|sr4box|inpaint|deblur|denoise|gray --input IN.png [--mask M.png] [--simulate]
        --out OUT.png [--model photo|face64|FILE] [--steps 5] [--method cpigdm|pigdm|ddnm|dps|ddim]
        [--w W] [--lambda L] [--tau0 T] [--sigma-y S] [--seed N] [--work N] [--backend cpu|gpu]

With the photo model (the default), IN.png is restored at its own size: sr4 and sr2 turn a W×H photo
into 4W×4H and 2W×2H (outputs up to 2048×2048); inpaint fills the black pixels of --mask (the
photo's size, white = keep, photos up to 4096×4096) and returns the photo with only those changed;
deblur (Gaussian, σ = 1.5 px) and denoise (--sigma-y, default 0.05) work on photos up to 2048×2048;
gray colourises photos up to 4096×4096, keeping their luminance. Every side must be at least 16 px.
Inpainting's window around the holes and colourisation's colours are restored at --work pixels
(default 256) on the longer side when larger. With --model face64 (a framed face prior), IN.png is
centre-cropped and resized to the model's frame: (R/4)×(R/4) for sr4, R×R otherwise (R = 64).

With --simulate, IN.png is the ground truth: the task degrades it, Conjure restores it and prints
{"psnr", "ssim", "ms", "steps", "method"} (PSNR and SSIM on [0,1] RGB). w, λ, τ₀ default to the
sweep's presets for the model, task, method and step count (restore/presets.json,
docs/EVALUATION.md); for the photo model with C-ΠGDM at 5 steps:`

func restoreUsage() string {
	var b strings.Builder
	b.WriteString(restoreSynopsis)
	for _, t := range restore.Tasks {
		p := restore.PresetFor(restore.PriorPhoto, sampler.CPiGDM, t, 5)
		fmt.Fprintf(&b, "\n  %-8s w=%g lambda=%g tau0=%g", t, p.W, p.Lambda, p.Tau0)
	}
	return b.String()
}

// restoreFlags are the parsed flags of `conjure restore`.
type restoreFlags struct {
	task, input, mask, out, method, backend, model string
	simulate                                       bool
	steps, work                                    int
	w, lambda, tau0, sigmaY                        float64
	seed                                           uint64
	set                                            map[string]bool
}

func parseRestore(args []string, stderr io.Writer) (*restoreFlags, error) {
	fs := newFlags("restore", restoreUsage(), stderr)
	f := &restoreFlags{set: map[string]bool{}}
	fs.StringVar(&f.task, "task", "", "restoration `task`: sr4, sr2, sr4box, inpaint, deblur, denoise or gray")
	fs.StringVar(&f.input, "input", "", "input image `FILE` (PNG or JPEG)")
	fs.StringVar(&f.mask, "mask", "", "inpainting mask `FILE`, the input's size: white = keep, black = fill")
	fs.BoolVar(&f.simulate, "simulate", false, "treat the input as ground truth: degrade, restore, print metrics")
	fs.StringVar(&f.out, "out", "", "output PNG `FILE`")
	fs.IntVar(&f.steps, "steps", 5, "network evaluations")
	fs.StringVar(&f.method, "method", string(sampler.CPiGDM), "sampler: cpigdm, pigdm, ddnm, dps or ddim")
	fs.Float64Var(&f.w, "w", 0, "guidance weight (default: the task's preset)")
	fs.Float64Var(&f.lambda, "lambda", 0, "conjugate integrator λ (default: the task's preset)")
	fs.Float64Var(&f.tau0, "tau0", 0, "start time τ₀ (default: the task's preset)")
	fs.Float64Var(&f.sigmaY, "sigma-y", 0, "measurement noise standard deviation in [-1,1] units (default: denoise 0.05, deblur 0.005, else 0)")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the initial noise")
	fs.StringVar(&f.backend, "backend", "cpu", "where to run: cpu or gpu")
	fs.StringVar(&f.model, "model", models.Default, "`MODEL`: photo, face64 or a weight file")
	fs.IntVar(&f.work, "work", restore.DefaultWork, "working side in pixels for inpainting's window and colourisation")
	gpuMiB := gpuMiBFlag(fs)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := gpuMiB(); err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	switch {
	case f.task == "":
		return nil, errors.New("--task is required (sr4, sr2, sr4box, inpaint, deblur, denoise or gray)")
	case f.input == "":
		return nil, errors.New("--input FILE is required")
	case f.out == "":
		return nil, errors.New("--out FILE.png is required")
	case f.steps < 1:
		return nil, fmt.Errorf("--steps %d: need at least 1", f.steps)
	case f.backend != "cpu" && f.backend != "gpu":
		return nil, fmt.Errorf("--backend %q: want cpu or gpu", f.backend)
	case f.work < restore.MinSide:
		return nil, fmt.Errorf("--work %d: need at least %d", f.work, restore.MinSide)
	case !(f.sigmaY >= 0) || math.IsInf(f.sigmaY, 0):
		return nil, fmt.Errorf("--sigma-y %v: need a finite value ≥ 0", f.sigmaY)
	}
	return f, nil
}

// noise returns the measurement noise of the run: --sigma-y (0: exact), or
// without it the task's default (restore.DefaultSigmaY).
func (f *restoreFlags) noise(t restore.Task) float64 {
	if !f.set["sigma-y"] {
		return restore.DefaultSigmaY(t)
	}
	return f.sigmaY
}

// options returns the sampler options: the prior's preset for the task,
// then the flags.
func (f *restoreFlags) options(prior string, t restore.Task) (sampler.Options, error) {
	o := restore.Options(prior, t, sampler.Method(f.method), f.steps, f.noise(t))
	if f.set["w"] {
		o.W = f.w
	}
	if f.set["lambda"] {
		o.Lambda = f.lambda
	}
	if f.set["tau0"] {
		o.Tau0 = f.tau0
	}
	_, err := o.Validate()
	return o, err
}

func runRestore(args []string, stdout, stderr io.Writer) error {
	f, err := parseRestore(args, stderr)
	if err != nil {
		return err
	}
	task, err := restore.ParseTask(f.task)
	if err != nil {
		return err
	}
	m, err := models.Load(f.model)
	if err != nil {
		return err
	}
	prior := restore.Prior(m.Config())
	o, err := f.options(prior, task)
	if err != nil {
		return err
	}
	if prior == restore.PriorFace {
		return restoreFramed(f, task, o, m, stdout, stderr)
	}
	return restorePhoto(f, task, o, m, stdout, stderr)
}

// restorePhoto restores the input at its own size with a local model run
// on tiles.
func restorePhoto(f *restoreFlags, task restore.Task, o sampler.Options, m *model.Model, stdout, stderr io.Writer) error {
	w, h, err := imaging.Size(f.input)
	if err != nil {
		return err
	}
	if fac := restore.Factor(task); f.simulate {
		err = restore.CheckSize(task, w/fac, h/fac)
	} else {
		err = restore.CheckSize(task, w, h)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.input, err)
	}
	keep, err := maskFor(task, f, w, h, "the size of "+f.input)
	if err != nil {
		return err
	}
	img, err := imaging.Open(f.input)
	if err != nil {
		return err
	}
	x := imaging.Planar(img)
	sigmaY := f.noise(task)
	ph := restore.Photo{Task: task, Input: x, H: h, W: w, Keep: keep, SigmaY: sigmaY, Work: f.work}
	var truth []float64
	if f.simulate {
		if ph, truth, err = restore.Simulate(task, x, h, w, keep, sigmaY, f.seed+1); err != nil {
			return err
		}
		ph.Work = f.work
	}
	prob, err := ph.Problem()
	if err != nil {
		return err
	}
	bar := newTileProgress(stderr, o.Steps)
	b, closeBackend, err := photoBackend(f.backend, m, prob, bar)
	if err != nil {
		return err
	}
	defer closeBackend()
	start := time.Now()
	var out []float64
	err = guard(func() (err error) {
		out, err = restore.RunPhoto(b, prob, o, f.seed, bar.Step)
		return err
	})
	if err != nil {
		return err
	}
	return f.save(out, truth, prob.OutH, prob.OutW, time.Since(start), o, stdout)
}

// save writes the restored image x (h×w) to --out and, with --simulate,
// prints its metrics against truth.
func (f *restoreFlags) save(x, truth []float64, h, w int, took time.Duration, o sampler.Options, stdout io.Writer) error {
	img, err := imaging.Image(x, restore.Channels, h, w)
	if err != nil {
		return err
	}
	if err := imaging.Save(f.out, img); err != nil {
		return err
	}
	if !f.simulate {
		return nil
	}
	return json.NewEncoder(stdout).Encode(map[string]any{
		"psnr": metrics.PSNR(x, truth), "ssim": metrics.SSIM(x, truth, restore.Channels, h, w),
		"ms": float64(took.Microseconds()) / 1000, "steps": o.Steps, "method": o.Method,
	})
}

// photoBackend returns the backend for a whole-photo problem, m's network
// over the tiles of the problem's image: on the CPU the reference network,
// on the GPU a TiledNet; the function it returns frees it.
func photoBackend(name string, m *model.Model, prob *restore.Problem, bar *tileProgress) (sampler.Backend, func(), error) {
	if name == "gpu" {
		return photoGPUBackend(m, prob.H, prob.W, bar)
	}
	net, err := tiledNet(m, prob.H, prob.W, 0, bar.Tiles)
	if err != nil {
		return nil, nil, err
	}
	return cpu.New(net), func() {}, nil
}

// barWait is how often a GPU restoration waits for the device as tiles
// are recorded: recording runs ahead of the device, by the whole
// restoration if nothing waits, and the bar should show work done.
const barWait = 100 * time.Millisecond

// photoGPUBackend opens the device and returns a Backend running m's
// TiledNet for an h×w image, which reports its tiles to bar, waiting for
// the device at most every barWait so that the bar keeps up with the work
// done; the function it returns closes the device, which frees them all.
func photoGPUBackend(m *model.Model, h, w int, bar *tileProgress) (sampler.Backend, func(), error) {
	g, err := photoGrid(m, h, w)
	if err != nil {
		return nil, nil, err
	}
	d, net, b, closeGPU, err := openTiledGPU(m, g)
	if err != nil {
		return nil, nil, err
	}
	probe, err := d.NewBuffer(1)
	if err != nil {
		closeGPU()
		return nil, nil, err
	}
	one, last := make([]float64, 1), time.Now()
	net.Progress = func(done, total int) {
		if time.Since(last) >= barWait {
			// Reading a buffer back waits for the work recorded so far; a
			// device error panics, as the Backend's do, for guard.
			if err := probe.Read(one); err != nil {
				panic(err)
			}
			last = time.Now()
		}
		bar.Tiles(done, total)
	}
	return b, closeGPU, nil
}

// openDevice opens the GPU, saying how to get one when there is none.
func openDevice() (*gpu.Device, error) {
	d, err := gpu.Open()
	if errors.Is(err, gpu.ErrNoAdapter) {
		return nil, errNoAdapter
	}
	return d, err
}

// keepTiles is the most tiles whose activations the CPU keeps between ε
// and its VJP, which saves a third of a C-ΠGDM step: about 2.3 GB with the
// photo model (48 MB a tile), enough for a 400×300 image.
const keepTiles = 48

// photoGrid returns the tiling of an h×w image by m's tiles.
func photoGrid(m *model.Model, h, w int) (*tile.Grid, error) {
	res := m.Config().Resolution
	return tile.NewGrid(h, w, res, tile.DefaultOverlap(res))
}

// tiledNet returns m's CPU network over the tiles of an h×w image, with
// workers tiles at a time (0: one per core).
func tiledNet(m *model.Model, h, w, workers int, progress func(done, total int)) (*tile.Net, error) {
	g, err := photoGrid(m, h, w)
	if err != nil {
		return nil, err
	}
	return tile.New(g, m.Config().InChannels, func() tile.Network { return m.NewRunner() },
		tile.Options{Workers: workers, Keep: keepTiles, Progress: progress})
}

// restoreFramed restores the input in the fixed frame of a model with
// attention (the face model): centre-cropped and resized to its resolution.
func restoreFramed(f *restoreFlags, task restore.Task, o sampler.Options, m *model.Model, stdout, stderr io.Writer) error {
	res := m.Config().Resolution
	img, err := imaging.Open(f.input)
	if err != nil {
		return err
	}
	keep, err := maskFor(task, f, res, res, "the model's resolution")
	if err != nil {
		return err
	}
	op, err := restore.Operator(task, res, keep)
	if err != nil {
		return err
	}
	sigmaY := f.noise(task)
	var truth, y []float64
	if f.simulate {
		truth, err = fit(img, res, f.input, stderr)
		if err != nil {
			return err
		}
		y = make([]float64, op.Out())
		op.Forward(y, truth)
		for i, n := range sampler.Noise(len(y), f.seed+1) {
			y[i] += sigmaY * n
		}
	} else {
		obs, err := fit(img, restore.ObservedSide(task, res), f.input, stderr)
		if err != nil {
			return err
		}
		y = restore.Measurement(op, obs)
	}
	b, closeBackend, err := openBackend(f.backend, m)
	if err != nil {
		return err
	}
	defer closeBackend()
	start := time.Now()
	var x []float64
	err = guard(func() (err error) {
		x, err = restore.RunTask(b, task, op, y, sigmaY, o, f.seed, func(s sampler.Step) {
			fmt.Fprintf(stderr, "step %d/%d\n", s.I, s.N)
		})
		return err
	})
	if err != nil {
		return err
	}
	return f.save(x, truth, res, res, time.Since(start), o, stdout)
}

// fit returns img as a planar side×side image, saying on stderr when it had
// to be cropped or resized.
func fit(img goimage.Image, side int, name string, stderr io.Writer) ([]float64, error) {
	x, resized, err := imaging.Fit(img, side)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if resized {
		b := img.Bounds()
		fmt.Fprintf(stderr, "notice: %s is %d×%d; using its centred square resized to %d×%d\n", name, b.Dx(), b.Dy(), side, side)
	}
	return x, nil
}

// maskFor returns the inpainting keep-mask of a w×h image (what names the
// size in errors): --mask, which must have that size (checked from its
// header first), or for --simulate without one, a centred hole over a
// quarter of the image; nil for the other tasks.
func maskFor(t restore.Task, f *restoreFlags, w, h int, what string) ([]bool, error) {
	if t != restore.Inpaint {
		if f.mask != "" {
			return nil, fmt.Errorf("--mask is only for --task inpaint")
		}
		return nil, nil
	}
	if f.mask == "" {
		if f.simulate {
			return restore.CentreHole(h, w), nil
		}
		return nil, errors.New("--task inpaint needs --mask M.png (white = keep, black = fill)")
	}
	mw, mh, err := imaging.Size(f.mask)
	if err != nil {
		return nil, err
	}
	if mw != w || mh != h {
		return nil, fmt.Errorf("mask %s is %d×%d; it must be %d×%d, %s", f.mask, mw, mh, w, h, what)
	}
	img, err := imaging.Open(f.mask)
	if err != nil {
		return nil, err
	}
	return imaging.Mask(img), nil
}
