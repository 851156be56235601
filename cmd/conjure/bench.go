package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/model"
	"conjure/models"
	"conjure/operator"
	"conjure/restore"
	"conjure/sampler"
	"conjure/tile"
)

const benchSynopsis = `bench [--backend cpu,gpu] [--steps 5] [--repeat 3] [--size WxH] [--json] [--model FILE]

Times one network step (Eps, then its VJP) kernel by kernel on each backend: on the GPU every
dispatch replayed alone, --repeat times in one submission; on the CPU each op of the reference
(model.Config.Ops), --repeat times. Then the yardstick, a plain register-blocked float32 512³
matmul on the GPU, and whole restorations: the sr4 task with cpigdm and pigdm in --steps steps,
the best of --repeat runs after a warm-up, in ms per sampler step and per restore.

With --size WxH (a local model: photo), the step and the restorations are those of a tiled
W×H image: 4× super-resolution of a random (W/4)×(H/4) photo to W×H, as conjure restore runs
it. The GPU step is the tiled network's, every distinct dispatch replayed (tile cuts and
blends included); the CPU's is the reference's ops times the tiles it evaluates (with the
forward passes it recomputes when the image has more tiles than it keeps). Tiles/s counts
tile evaluations (ε and its VJP) per second of a restore.`

// benchMatmulN is the yardstick's matrix size.
const benchMatmulN = 512

// benchMethods are the samplers whose restorations bench times.
var benchMethods = []sampler.Method{sampler.CPiGDM, sampler.PiGDM}

// benchFlags are the parsed flags of `conjure bench`.
type benchFlags struct {
	backends      []string
	steps, repeat int
	json          bool
	model         string
	w, h          int // --size: the tiled restore's output (0: the model's frame)
}

func parseBench(args []string, stderr io.Writer) (*benchFlags, error) {
	fs := newFlags("bench", benchSynopsis, stderr)
	f := &benchFlags{}
	backends := fs.String("backend", "cpu,gpu", "comma-separated backends to time: cpu, gpu")
	fs.IntVar(&f.steps, "steps", 5, "sampler steps of a timed restore")
	fs.IntVar(&f.repeat, "repeat", 3, "runs of each kernel and restore")
	fs.BoolVar(&f.json, "json", false, "print one JSON object instead of tables")
	fs.StringVar(&f.model, "model", models.Default, "`MODEL`: photo, face64 or a weight file")
	size := fs.String("size", "", "time a tiled 4× restore to a `WxH` output (e.g. 256x256) instead of one frame")
	gpuMiB := gpuMiBFlag(fs)
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	if err := gpuMiB(); err != nil {
		return nil, err
	}
	if *size != "" {
		var err error
		if f.w, f.h, err = parseSize(*size); err != nil {
			return nil, err
		}
	}
	for _, b := range strings.Split(*backends, ",") {
		if b != "cpu" && b != "gpu" || slices.Contains(f.backends, b) {
			return nil, fmt.Errorf("--backend %q: want cpu, gpu or cpu,gpu", *backends)
		}
		f.backends = append(f.backends, b)
	}
	switch {
	case f.steps < 1:
		return nil, fmt.Errorf("--steps %d: need at least 1", f.steps)
	case f.repeat < 1:
		return nil, fmt.Errorf("--repeat %d: need at least 1", f.repeat)
	}
	return f, nil
}

// parseSize parses --size WxH: a 4× output whose input meets sr4's limits.
func parseSize(s string) (w, h int, err error) {
	if _, err := fmt.Sscanf(s, "%dx%d", &w, &h); err != nil || fmt.Sprintf("%dx%d", w, h) != s {
		return 0, 0, fmt.Errorf("--size %q: want WIDTHxHEIGHT, e.g. 256x256", s)
	}
	if w%4 != 0 || h%4 != 0 {
		return 0, 0, fmt.Errorf("--size %s: the 4× output's sides must be multiples of 4", s)
	}
	if err := restore.CheckSize(restore.SR4, w/4, h/4); err != nil {
		return 0, 0, fmt.Errorf("--size %s: %w", s, err)
	}
	return w, h, nil
}

// benchReport is what bench measures; --json prints it as it is.
type benchReport struct {
	Model   model.Config `json:"model"`
	CPUs    int          `json:"cpus"`
	Adapter string       `json:"adapter,omitempty"`
	// Size is the tiled restore's output, "WxH"; empty for one frame.
	Size string `json:"size,omitempty"`
	// Tiles is the tiles of a tiled step, and NetBatch how many of them
	// one GPU network evaluation covers.
	Tiles    int `json:"tiles,omitempty"`
	NetBatch int `json:"net_batch,omitempty"`
	// MatmulGFLOPs is the yardstick's rate on the GPU.
	MatmulGFLOPs float64      `json:"matmul_gflops,omitempty"`
	Kernels      []kernelRow  `json:"kernels"`
	Restores     []restoreRow `json:"restores"`
	// Speedup is, per method, the CPU's time per step over the GPU's.
	Speedup map[sampler.Method]float64 `json:"speedup,omitempty"`
}

// kernelRow is one kind of kernel in a network step on each backend.
type kernelRow struct {
	Kernel string      `json:"kernel"`
	GPU    *kernelTime `json:"gpu,omitempty"`
	CPU    *kernelTime `json:"cpu,omitempty"`
}

// kernelTime is a kernel kind's time in one network step on one backend.
type kernelTime struct {
	Calls     int     `json:"calls"`
	MsPerStep float64 `json:"ms_per_step"`
	GFLOPs    float64 `json:"gflops"` // 0 for the kernels counted without arithmetic
	Share     float64 `json:"share"`  // of the step's kernel time
	// MatmulPct is GFLOPs as a percentage of the yardstick (GPU only).
	MatmulPct float64 `json:"matmul_pct,omitempty"`
	flops     float64
}

// restoreRow is the time of a whole restoration.
type restoreRow struct {
	Method       sampler.Method `json:"method"`
	Backend      string         `json:"backend"`
	MsPerStep    float64        `json:"ms_per_step"`
	MsPerRestore float64        `json:"ms_per_restore"`
	// TilesPerS is tile evaluations (ε and VJP) per second (tiled only).
	TilesPerS float64 `json:"tiles_per_s,omitempty"`
}

func runBench(args []string, stdout, stderr io.Writer) error {
	f, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	m, err := models.Load(f.model)
	if err != nil {
		return err
	}
	r := &benchReport{Model: m.Config(), CPUs: runtime.NumCPU(), Speedup: map[sampler.Method]float64{}}
	var job *benchJob
	if f.w > 0 {
		if job, err = newBenchJob(m, f.w, f.h); err != nil {
			return err
		}
		r.Size, r.Tiles = fmt.Sprintf("%dx%d", f.w, f.h), job.grid.Tiles()
	}
	kernels := map[string]*kernelRow{}
	row := func(name string) *kernelRow {
		if kernels[name] == nil {
			kernels[name] = &kernelRow{Kernel: name}
		}
		return kernels[name]
	}
	for _, backend := range f.backends {
		var b sampler.Backend
		switch {
		case backend == "gpu" && job != nil:
			d, tn, gb, closeGPU, err := openTiledGPU(m, job.grid)
			if err != nil {
				return err
			}
			defer closeGPU()
			r.Adapter, r.NetBatch = d.Name(), tn.NetBatch()
			if err := benchGPUKernels(r, d, tn.Profile, f.repeat, row); err != nil {
				return err
			}
			b = gb
		case backend == "gpu":
			d, net, gb, closeGPU, err := openGPU(m)
			if err != nil {
				return err
			}
			defer closeGPU()
			r.Adapter = d.Name()
			if err := benchGPUKernels(r, d, net.Profile, f.repeat, row); err != nil {
				return err
			}
			b = gb
		case job != nil:
			// The tile Net's evaluations of one step: each tile's forward
			// pass, again before its VJP when it keeps too few, and its VJP.
			fwd := job.grid.Tiles()
			if fwd > keepTiles {
				fwd *= 2
			}
			if err := benchCPUKernels(m.Config(), f.repeat, fwd, job.grid.Tiles(), row); err != nil {
				return err
			}
			net, err := tiledNet(m, f.h, f.w, 0, nil)
			if err != nil {
				return err
			}
			b = cpu.New(net)
		default:
			if err := benchCPUKernels(m.Config(), f.repeat, 1, 1, row); err != nil {
				return err
			}
			b = newCPUBackend(m)
		}
		if err := benchRestores(r, backend, b, job, restore.Prior(m.Config()), m.Config().Resolution, f); err != nil {
			return err
		}
	}
	for _, k := range kernels {
		r.Kernels = append(r.Kernels, *k)
	}
	finishKernels(r)
	perStep := map[string]float64{}
	for _, x := range r.Restores {
		perStep[x.Backend+"/"+string(x.Method)] = x.MsPerStep
	}
	for _, meth := range benchMethods {
		if g, c := perStep["gpu/"+string(meth)], perStep["cpu/"+string(meth)]; g > 0 && c > 0 {
			r.Speedup[meth] = c / g
		}
	}
	if f.json {
		return json.NewEncoder(stdout).Encode(r)
	}
	printBench(stdout, r)
	return nil
}

// benchGPUKernels profiles one network step on the device (a Net's or a
// TiledNet's Profile) and the yardstick matmul.
func benchGPUKernels(r *benchReport, d *gpu.Device, profile func(tau float64, runs int) ([]gpu.Dispatch, error), repeat int, row func(string) *kernelRow) error {
	rate, err := d.MatmulRate(benchMatmulN, repeat, 200*time.Millisecond)
	if err != nil {
		return fmt.Errorf("matmul yardstick: %w", err)
	}
	r.MatmulGFLOPs = rate / 1e9
	ds, err := profile(0.5, repeat)
	if err != nil {
		return err
	}
	for _, x := range ds {
		// attention's VJP is two dispatches on the GPU, one op on the CPU.
		name := strings.TrimSuffix(strings.TrimSuffix(x.Kernel, "_q"), "_kv")
		k := row(name)
		if k.GPU == nil {
			k.GPU = &kernelTime{}
		}
		if x.Kernel != name+"_kv" {
			k.GPU.Calls++
		}
		k.GPU.MsPerStep += 1e3 * x.Seconds
		k.GPU.flops += x.Flops
	}
	return nil
}

// benchCPUKernels times every op of one network step of the CPU
// reference, once per distinct op and size, counting the forward ops fwd
// times and the VJP's vjp times (the evaluations of a tiled step).
func benchCPUKernels(c model.Config, repeat, fwd, vjp int, row func(string) *kernelRow) error {
	seen := map[model.Op]time.Duration{}
	for _, op := range c.Ops() {
		t, ok := seen[op]
		if !ok {
			var err error
			if t, err = model.TimeOp(op, c.Groups, c.Heads, repeat); err != nil {
				return err
			}
			seen[op] = t
		}
		times := vjp
		if strings.HasSuffix(op.Kind, "_fwd") {
			times = fwd
		}
		k := row(op.Name())
		if k.CPU == nil {
			k.CPU = &kernelTime{}
		}
		k.CPU.Calls += times
		k.CPU.MsPerStep += 1e3 * t.Seconds() * float64(times)
		k.CPU.flops += op.Flops() * float64(times)
	}
	return nil
}

// finishKernels fills in rates and shares and sorts the rows by time,
// the GPU's where it was measured.
func finishKernels(r *benchReport) {
	var total [2]float64
	for _, k := range r.Kernels {
		for i, t := range []*kernelTime{k.GPU, k.CPU} {
			if t != nil {
				total[i] += t.MsPerStep
			}
		}
	}
	for _, k := range r.Kernels {
		for i, t := range []*kernelTime{k.GPU, k.CPU} {
			if t == nil {
				continue
			}
			if t.MsPerStep > 0 {
				t.GFLOPs = t.flops / t.MsPerStep / 1e6
			}
			if total[i] > 0 {
				t.Share = t.MsPerStep / total[i]
			}
			if i == 0 && r.MatmulGFLOPs > 0 {
				t.MatmulPct = 100 * t.GFLOPs / r.MatmulGFLOPs
			}
		}
	}
	key := func(k kernelRow) float64 {
		if k.GPU != nil {
			return k.GPU.MsPerStep
		}
		return k.CPU.MsPerStep
	}
	slices.SortFunc(r.Kernels, func(a, b kernelRow) int {
		if c := -cmpFloat(key(a), key(b)); c != 0 {
			return c
		}
		return strings.Compare(a.Kernel, b.Kernel)
	})
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// benchJob is a tiled restore to time: 4× super-resolution of a random
// photo to the grid's size.
type benchJob struct {
	grid *tile.Grid
	prob *restore.Problem
}

// newBenchJob returns the tiled sr4 restore of a random (w/4)×(h/4)
// photo by m, which must be local.
func newBenchJob(m *model.Model, w, h int) (*benchJob, error) {
	if !m.Config().Local() {
		return nil, fmt.Errorf("--size: the model has attention and restores one %d×%d frame; use a local model (--model photo)", m.Config().Resolution, m.Config().Resolution)
	}
	g, err := photoGrid(m, h, w)
	if err != nil {
		return nil, err
	}
	ph := restore.Photo{Task: restore.SR4, H: h / 4, W: w / 4, Input: make([]float64, restore.Channels*(h/4)*(w/4))}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range ph.Input {
		ph.Input[i] = 2*rng.Float64() - 1
	}
	prob, err := ph.Problem()
	if err != nil {
		return nil, err
	}
	return &benchJob{grid: g, prob: prob}, nil
}

// benchRestores times whole sr4 restorations with each method on b: of
// the job's photo if there is one, else of one random frame.
func benchRestores(r *benchReport, backend string, b sampler.Backend, job *benchJob, prior string, res int, f *benchFlags) error {
	var op operator.Operator
	var y []float64
	if job != nil {
		op, y = job.prob.Op, job.prob.Y
	} else {
		var err error
		if op, err = restore.Operator(restore.SR4, res, nil); err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x0 := make([]float64, op.In())
		for i := range x0 {
			x0[i] = 2*rng.Float64() - 1
		}
		y = make([]float64, op.Out())
		op.Forward(y, x0)
	}
	for _, meth := range benchMethods {
		o := restore.Options(prior, restore.SR4, meth, f.steps, 0)
		best := time.Duration(1<<63 - 1)
		// The first run is a warm-up: it creates the bind groups and
		// scratch buffers every later run reuses.
		for i := range f.repeat + 1 {
			start := time.Now()
			err := guard(func() error {
				_, err := restore.RunTask(b, restore.SR4, op, y, 0, o, 0, nil)
				return err
			})
			if err != nil {
				return fmt.Errorf("%s on %s: %w", meth, backend, err)
			}
			if i > 0 {
				best = min(best, time.Since(start))
			}
		}
		ms := 1e3 * best.Seconds()
		x := restoreRow{Method: meth, Backend: backend, MsPerStep: ms / float64(f.steps), MsPerRestore: ms}
		if job != nil {
			x.TilesPerS = float64(job.grid.Tiles()*f.steps) / best.Seconds()
		}
		r.Restores = append(r.Restores, x)
	}
	return nil
}

// printBench writes the report as tables.
func printBench(w io.Writer, r *benchReport) {
	c := r.Model
	fmt.Fprintf(w, "model: %d×%d, channels %d, mult %v, res_blocks %d, attention at %v\n",
		c.Resolution, c.Resolution, c.Channels, c.Mult, c.ResBlocks, c.AttnResolutions)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d)", r.CPUs, runtime.GOMAXPROCS(0))
	if r.Adapter != "" {
		fmt.Fprintf(w, "; GPU adapter: %s", r.Adapter)
	}
	fmt.Fprintln(w)
	if r.MatmulGFLOPs > 0 {
		fmt.Fprintf(w, "yardstick: %d³ float32 matmul on the GPU: %.2f GFLOP/s\n", benchMatmulN, r.MatmulGFLOPs)
	}
	step := "one network step (Eps + VJP)"
	if r.Size != "" {
		step = fmt.Sprintf("one tiled network step (Eps + VJP) of a %s image, %d tile(s)", r.Size, r.Tiles)
		if r.NetBatch > 0 {
			step += fmt.Sprintf(", %d per GPU dispatch", r.NetBatch)
		}
	}
	fmt.Fprintf(w, "\nkernels, %s:\n", step)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kernel\tGPU calls\tGPU ms\tGPU GFLOP/s\tGPU share\t% of matmul\tCPU calls\tCPU ms\tCPU GFLOP/s\tCPU share\t")
	var total [2]float64
	var conv [2][2]float64 // GPU, CPU: flops, ms of the convolutions
	for _, k := range r.Kernels {
		fmt.Fprintf(tw, "%s\t", k.Kernel)
		for i, t := range []*kernelTime{k.GPU, k.CPU} {
			if t == nil {
				fmt.Fprint(tw, "–\t–\t–\t–\t")
				if i == 0 {
					fmt.Fprint(tw, "–\t")
				}
				continue
			}
			total[i] += t.MsPerStep
			if strings.HasPrefix(k.Kernel, "conv") {
				conv[i][0] += t.flops
				conv[i][1] += t.MsPerStep
			}
			fmt.Fprintf(tw, "%d\t%.1f\t%s\t%.1f%%\t", t.Calls, t.MsPerStep, rate(t.GFLOPs), 100*t.Share)
			if i == 0 {
				fmt.Fprintf(tw, "%s\t", pct(t.MatmulPct))
			}
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "total\t\t%.1f\t\t\t\t\t%.1f\t\t\t\n", total[0], total[1])
	tw.Flush()
	for i, name := range []string{"GPU", "CPU"} {
		if conv[i][1] > 0 {
			g := conv[i][0] / conv[i][1] / 1e6
			fmt.Fprintf(w, "%s convolutions: %.2f GFLOP/s", name, g)
			if i == 0 && r.MatmulGFLOPs > 0 {
				fmt.Fprintf(w, " (%.0f%% of the matmul yardstick)", 100*g/r.MatmulGFLOPs)
			}
			fmt.Fprintln(w)
		}
	}
	what := "sr4"
	if r.Size != "" {
		what = "sr4 to " + r.Size
	}
	fmt.Fprintf(w, "\nrestorations (%s):\n", what)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "method\tbackend\tms/step\tms/restore\ttiles/s\t")
	for _, x := range r.Restores {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%s\t\n", x.Method, x.Backend, x.MsPerStep, x.MsPerRestore, rate(x.TilesPerS))
	}
	tw.Flush()
	for _, meth := range benchMethods {
		if s, ok := r.Speedup[meth]; ok {
			fmt.Fprintf(w, "GPU speed-up per step, %s: %.2f× the CPU\n", meth, s)
		}
	}
}

// rate formats a GFLOP/s figure, a dash for kernels counted without
// arithmetic.
func rate(g float64) string {
	if g == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", g)
}

func pct(p float64) string {
	if p == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", p)
}
