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

	"conjure/imaging"
	"conjure/metrics"
	"conjure/model"
	"conjure/models"
	"conjure/restore"
	"conjure/sampler"
)

const restoreSynopsis = `restore --task sr4|sr4box|inpaint|deblur|gray --input IN.png [--mask M.png] [--simulate] --out OUT.png
        [--steps 5] [--method cpigdm|pigdm|ddnm|dps|ddim] [--w W] [--lambda L] [--tau0 T] [--sigma-y S]
        [--seed N] [--backend cpu|gpu] [--model FILE]

Without --simulate, IN.png is the observation: an (R/4)×(R/4) image for sr4/sr4box (R = the model's
resolution), an R×R image plus --mask (white = keep, black = fill) for inpaint, an R×R image for deblur
and gray. With --simulate, IN.png is the ground truth: the task degrades it, Conjure restores it and
prints {"psnr", "ssim", "ms", "steps", "method"} (PSNR and SSIM on [0,1] RGB). Images of another size
are centre-cropped and resized. w, λ, τ₀ default to the sweep's presets for the task, method and
step count (restore/presets.json, docs/EVALUATION.md); for C-ΠGDM at 5 steps:`

func restoreUsage() string {
	var b strings.Builder
	b.WriteString(restoreSynopsis)
	for _, t := range restore.Tasks {
		p := restore.PresetFor(sampler.CPiGDM, t, 5)
		fmt.Fprintf(&b, "\n  %-8s w=%g lambda=%g tau0=%g", t, p.W, p.Lambda, p.Tau0)
	}
	return b.String()
}

// restoreFlags are the parsed flags of `conjure restore`.
type restoreFlags struct {
	task, input, mask, out, method, backend, model string
	simulate                                       bool
	steps                                          int
	w, lambda, tau0, sigmaY                        float64
	seed                                           uint64
	set                                            map[string]bool
}

func parseRestore(args []string, stderr io.Writer) (*restoreFlags, error) {
	fs := newFlags("restore", restoreUsage(), stderr)
	f := &restoreFlags{set: map[string]bool{}}
	fs.StringVar(&f.task, "task", "", "restoration `task`: sr4, sr4box, inpaint, deblur or gray")
	fs.StringVar(&f.input, "input", "", "input image `FILE` (PNG or JPEG)")
	fs.StringVar(&f.mask, "mask", "", "inpainting mask `FILE`, R×R: white = keep, black = fill")
	fs.BoolVar(&f.simulate, "simulate", false, "treat the input as ground truth: degrade, restore, print metrics")
	fs.StringVar(&f.out, "out", "", "output PNG `FILE`")
	fs.IntVar(&f.steps, "steps", 5, "network evaluations")
	fs.StringVar(&f.method, "method", string(sampler.CPiGDM), "sampler: cpigdm, pigdm, ddnm, dps or ddim")
	fs.Float64Var(&f.w, "w", 0, "guidance weight (default: the task's preset)")
	fs.Float64Var(&f.lambda, "lambda", 0, "conjugate integrator λ (default: the task's preset)")
	fs.Float64Var(&f.tau0, "tau0", 0, "start time τ₀ (default: the task's preset)")
	fs.Float64Var(&f.sigmaY, "sigma-y", 0, "measurement noise standard deviation in [-1,1] units")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the initial noise")
	fs.StringVar(&f.backend, "backend", "cpu", "where to run: cpu or gpu")
	fs.StringVar(&f.model, "model", "", "weight `FILE` (default: the shipped model)")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	switch {
	case f.task == "":
		return nil, errors.New("--task is required (sr4, sr4box, inpaint, deblur or gray)")
	case f.input == "":
		return nil, errors.New("--input FILE is required")
	case f.out == "":
		return nil, errors.New("--out FILE.png is required")
	case f.steps < 1:
		return nil, fmt.Errorf("--steps %d: need at least 1", f.steps)
	case f.backend != "cpu" && f.backend != "gpu":
		return nil, fmt.Errorf("--backend %q: want cpu or gpu", f.backend)
	}
	return f, nil
}

// options returns the sampler options: the task's preset, then the flags.
func (f *restoreFlags) options(t restore.Task) (sampler.Options, error) {
	o := restore.Options(t, sampler.Method(f.method), f.steps, f.sigmaY)
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

func loadModel(path string) (*model.Model, error) {
	if path == "" {
		return models.Default()
	}
	return model.Load(path)
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
	o, err := f.options(task)
	if err != nil {
		return err
	}
	if !(f.sigmaY >= 0) || math.IsInf(f.sigmaY, 0) {
		return fmt.Errorf("--sigma-y %v: need a finite value ≥ 0", f.sigmaY)
	}
	m, err := loadModel(f.model)
	if err != nil {
		return err
	}
	res := m.Config().Resolution
	img, err := imaging.Open(f.input)
	if err != nil {
		return err
	}
	keep, err := maskFor(task, f, res)
	if err != nil {
		return err
	}
	op, err := restore.Operator(task, res, keep)
	if err != nil {
		return err
	}
	var truth, y []float64
	if f.simulate {
		truth, err = fit(img, res, f.input, stderr)
		if err != nil {
			return err
		}
		y = make([]float64, op.Out())
		op.Forward(y, truth)
		for i, n := range sampler.Noise(len(y), f.seed+1) {
			y[i] += f.sigmaY * n
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
		x, err = restore.Run(b, op, y, f.sigmaY, o, f.seed, func(s sampler.Step) {
			fmt.Fprintf(stderr, "step %d/%d\n", s.I, s.N)
		})
		return err
	})
	if err != nil {
		return err
	}
	ms := float64(time.Since(start).Microseconds()) / 1000
	out, err := imaging.Image(x, restore.Channels, res, res)
	if err != nil {
		return err
	}
	if err := imaging.Save(f.out, out); err != nil {
		return err
	}
	if !f.simulate {
		return nil
	}
	return json.NewEncoder(stdout).Encode(map[string]any{
		"psnr": metrics.PSNR(x, truth), "ssim": metrics.SSIM(x, truth, restore.Channels, res, res),
		"ms": ms, "steps": o.Steps, "method": o.Method,
	})
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

// maskFor returns the inpainting keep-mask: --mask (exactly res×res), or for
// --simulate without one, a centred box over a quarter of the image.
func maskFor(t restore.Task, f *restoreFlags, res int) ([]bool, error) {
	if t != restore.Inpaint {
		if f.mask != "" {
			return nil, fmt.Errorf("--mask is only for --task inpaint")
		}
		return nil, nil
	}
	if f.mask == "" {
		if f.simulate {
			return restore.CenterBox(res), nil
		}
		return nil, errors.New("--task inpaint needs --mask M.png (white = keep, black = fill)")
	}
	img, err := imaging.Open(f.mask)
	if err != nil {
		return nil, err
	}
	if b := img.Bounds(); b.Dx() != res || b.Dy() != res {
		return nil, fmt.Errorf("mask %s is %d×%d; it must be %d×%d, the model's resolution", f.mask, b.Dx(), b.Dy(), res, res)
	}
	return imaging.Mask(img), nil
}
