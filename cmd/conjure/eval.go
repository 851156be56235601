package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"conjure/cpu"
	"conjure/eval"
	"conjure/gpu"
	"conjure/imaging"
	"conjure/model"
	"conjure/models"
	"conjure/operator"
	"conjure/restore"
	"conjure/sampler"
)

// evalFlags are the flags eval and sweep share: the images, tasks, step
// counts, seed, model and backend.
type evalFlags struct {
	data, tasks, steps, backend, model *string
	limit, skip, jobs, maxSide, work   *int
	seed                               *uint64
	plainStart                         *bool
}

func addEvalFlags(fs *flag.FlagSet) *evalFlags {
	return &evalFlags{
		data:    fs.String("data", "", "evaluation images: a directory of PNG/JPEG files or a tar shard of them"),
		tasks:   fs.String("tasks", allTasks(), "comma-separated tasks"),
		steps:   fs.String("steps", "5,10,20", "comma-separated step counts"),
		limit:   fs.Int("limit", 0, "use only the first N images (0: all)"),
		skip:    fs.Int("skip", 0, "skip the first N images (a sweep tunes on others than a report measures)"),
		seed:    fs.Uint64("seed", 0, "seed of masks, measurement noise and initial noise"),
		backend: fs.String("backend", "cpu", "where to run: cpu or gpu"),
		model:   fs.String("model", models.Default, "`MODEL`: photo, face64 or a weight file; photo evaluates whole photos at their own size, face64 framed 64×64 faces"),
		jobs:    fs.Int("jobs", 0, "restorations at once on the CPU backend (0: one per core; the GPU backend runs one)"),
		maxSide: fs.Int("max-side", 0, "whole photos: centre-crop (never resize) larger sides to this many pixels (0: whole)"),
		work:    fs.Int("work", restore.DefaultWork, "whole photos: working side of inpainting's window and colourisation"),
		plainStart: fs.Bool("plain-start", false, "start every task from H†y with fresh noise at τ₀ (ALGORITHM.md §I.1), "+
			"not from its own estimate (restore.StartFor): to measure what the starts bring"),
	}
}

// config loads the model and images and opens the backend; it returns the
// model too, and a function to call when done with the backend.
func (f *evalFlags) config(stderr io.Writer) (eval.Config, *model.Model, func(), error) {
	cfg := eval.Config{Seed: *f.seed, PlainStart: *f.plainStart}
	if *f.data == "" {
		return cfg, nil, nil, errors.New("--data is required")
	}
	for _, n := range split(*f.tasks) {
		t, err := eval.LookupTask(n)
		if err != nil {
			return cfg, nil, nil, err
		}
		cfg.Tasks = append(cfg.Tasks, t)
	}
	for _, s := range split(*f.steps) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return cfg, nil, nil, fmt.Errorf("--steps %q: want positive integers", s)
		}
		cfg.Steps = append(cfg.Steps, n)
	}
	m, err := models.Load(*f.model)
	if err != nil {
		return cfg, nil, nil, err
	}
	cfg.Res = m.Config().Resolution
	cfg.Photo = restore.Prior(m.Config()) == restore.PriorPhoto
	if cfg.Photo {
		cfg.Images, err = eval.LoadPhotos(*f.data, *f.maxSide, *f.skip, *f.limit)
	} else {
		cfg.Images, err = eval.LoadImages(*f.data, cfg.Res, *f.skip, *f.limit)
	}
	if err != nil {
		return cfg, nil, nil, err
	}
	if *f.work < restore.MinSide {
		return cfg, nil, nil, fmt.Errorf("--work %d: need at least %d", *f.work, restore.MinSide)
	}
	cfg.Work = *f.work
	closeBackend := func() {}
	switch {
	case *f.jobs < 0:
		return cfg, nil, nil, fmt.Errorf("--jobs %d: want 0 (one per core) or more", *f.jobs)
	case *f.jobs > 1 && *f.backend != "cpu":
		return cfg, nil, nil, fmt.Errorf("--jobs %d: the %s backend runs one restoration at a time; use --jobs 1 or --backend cpu", *f.jobs, *f.backend)
	case cfg.Photo && *f.backend == "gpu":
		p, err := newPhotoGPU(m)
		if err != nil {
			return cfg, nil, nil, err
		}
		cfg.PhotoBackend, cfg.Jobs, closeBackend = p.backend, 1, p.close
	case cfg.Photo && *f.backend == "cpu":
		cfg.Jobs = *f.jobs
		if cfg.Jobs == 0 {
			cfg.Jobs = runtime.NumCPU()
		}
		// Jobs run images in parallel, so each tiled network uses one
		// worker per job, the cores shared out between jobs.
		workers := max(1, runtime.NumCPU()/cfg.Jobs)
		cfg.PhotoBackend = func(h, w int) (sampler.Backend, error) {
			net, err := tiledNet(m, h, w, workers, nil)
			if err != nil {
				return nil, err
			}
			return cpu.New(net), nil
		}
	case *f.backend == "cpu":
		// Each job gets a network runner of its own (a few MB of
		// activations); they share the weights.
		cfg.Backend = func() sampler.Backend { return newCPUBackend(m) }
		cfg.Jobs = *f.jobs
		if cfg.Jobs == 0 {
			cfg.Jobs = runtime.NumCPU()
		}
	default:
		var b sampler.Backend
		if b, closeBackend, err = openBackend(*f.backend, m); err != nil {
			return cfg, nil, nil, err
		}
		cfg.Backend, cfg.Jobs = func() sampler.Backend { return b }, 1
	}
	cfg.Progress = func(done, total int, what string) {
		fmt.Fprintf(stderr, "\r%s %d/%d (%s)%s", bar(done, total), done, total, what, strings.Repeat(" ", 8))
		if done == total {
			fmt.Fprintln(stderr)
		}
	}
	return cfg, m, closeBackend, nil
}

// photoGPU is the GPU backend of a whole-photo evaluation, which runs one
// restoration at a time on a device opened once: one Backend (whose
// scratch buffers nothing else frees) running the TiledNet of the current
// image's size through a slot. When the next restoration asks for it, the
// vectors and operator tables the previous one left on the device are
// freed, since nothing else frees them before the device closes, and so is
// its TiledNet if the size changes.
type photoGPU struct {
	*gpu.Backend
	d    *gpu.Device
	m    *model.Model
	slot *netSlot
	h, w int
	vecs []*gpu.Buffer
	ops  map[operator.Operator]struct{}
}

// netSlot is the Backend's network: the current size's TiledNet.
type netSlot struct{ *gpu.TiledNet }

func newPhotoGPU(m *model.Model) (*photoGPU, error) {
	d, err := openDevice()
	if err != nil {
		return nil, err
	}
	p := &photoGPU{d: d, m: m, slot: &netSlot{}, ops: map[operator.Operator]struct{}{}}
	if p.Backend, err = gpu.NewBackend(d, p.slot); err != nil {
		d.Close()
		return nil, err
	}
	return p, nil
}

// backend is eval.Config.PhotoBackend.
func (p *photoGPU) backend(h, w int) (sampler.Backend, error) {
	for _, v := range p.vecs {
		if err := v.Destroy(); err != nil {
			return nil, err
		}
	}
	p.vecs = nil
	for op := range p.ops {
		p.Forget(op)
	}
	clear(p.ops)
	if p.slot.TiledNet != nil && (p.h != h || p.w != w) {
		p.slot.Destroy()
		p.slot.TiledNet = nil
	}
	if p.slot.TiledNet == nil {
		g, err := photoGrid(p.m, h, w)
		if err != nil {
			return nil, err
		}
		if p.slot.TiledNet, err = gpu.NewTiledNet(p.d, p.m, g); err != nil {
			return nil, err
		}
		p.h, p.w = h, w
	}
	return p, nil
}

// NewVec returns a zeroed vector of n elements and remembers it.
func (p *photoGPU) NewVec(n int) sampler.Vec {
	v := p.Backend.NewVec(n)
	p.vecs = append(p.vecs, v.(*gpu.Buffer))
	return v
}

// Apply records map k of op and remembers op.
func (p *photoGPU) Apply(op operator.Operator, k operator.Kind, dst, src sampler.Vec) {
	p.ops[op] = struct{}{}
	p.Backend.Apply(op, k, dst, src)
}

// Gain records a spectral gain of op and remembers op.
func (p *photoGPU) Gain(op operator.Operator, dst, src sampler.Vec, g func(s2 float64) float64) {
	p.ops[op] = struct{}{}
	p.Backend.Gain(op, dst, src, g)
}

// close frees the device and everything on it.
func (p *photoGPU) close() {
	if p.slot.TiledNet != nil {
		p.slot.Destroy()
	}
	p.d.Close()
}

// header describes the run for a report.
func (f *evalFlags) header(cmd string, args []string, images int) eval.Header {
	name := *f.model
	if _, shipped := models.Bytes(name); shipped {
		name = "models/" + models.FileName(name) + " (shipped)"
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return eval.Header{Model: name, Data: *f.data, Images: images, Seed: *f.seed, Command: "conjure " + cmd + " " + strings.Join(quoted, " ")}
}

// shellQuote returns a as a POSIX shell word: itself when it is plain, in
// single quotes otherwise (a sweep's "15,60;2,5" holds a ';'), so a
// report's command line can be pasted into a shell.
func shellQuote(a string) string {
	plain := a != "" && strings.IndexFunc(a, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,=:+@%", r))
	}) < 0
	if plain {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval --data DIR|SHARD.tar --out DIR [--tasks …] [--methods …] [--steps 5,10,20] [--skip N] [--limit N]", stderr)
	ef := addEvalFlags(fs)
	rf := addReportFlags(fs, "report.md and the montages", "eval")
	methods := fs.String("methods", strings.Join(eval.Methods, ","), "comma-separated methods")
	keep := fs.Int("keep", 4, "images per montage")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := rf.check(); err != nil {
		return err
	}
	var meths []string
	for _, m := range split(*methods) {
		if !slices.Contains(eval.Methods, m) {
			return fmt.Errorf("unknown method %q (want some of %v)", m, eval.Methods)
		}
		meths = append(meths, m)
	}
	cfg, m, closeBackend, err := ef.config(stderr)
	if err != nil {
		return err
	}
	defer closeBackend()
	cfg.Methods = meths
	prior := restore.Prior(m.Config())
	cfg.Options = func(t eval.Task, meth sampler.Method, n int) sampler.Options {
		return restore.Options(prior, t.Base, meth, n, cfg.Noise(t))
	}
	var rows []*eval.Row
	if err := guard(func() (err error) { rows, err = eval.Run(cfg, *keep); return err }); err != nil {
		return err
	}
	err = rf.publish("report.md", stdout, func(w io.Writer) error {
		return eval.WriteReport(w, ef.header("eval", args, len(cfg.Images)), rows)
	})
	if err != nil || *keep == 0 {
		return err
	}
	for _, t := range cfg.Tasks {
		img, err := eval.Montage(t, cfg, rows, 2)
		if err != nil {
			return err
		}
		if err := imaging.Save(filepath.Join(*rf.out, t.Name+".png"), img); err != nil {
			return err
		}
	}
	return nil
}

func allTasks() string {
	names := make([]string, len(eval.Tasks))
	for i, t := range eval.Tasks {
		names[i] = t.Name
	}
	return strings.Join(names, ",")
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// bar draws a 20-character progress bar.
func bar(done, total int) string {
	n := 20 * done / max(total, 1)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", 20-n) + "]"
}
