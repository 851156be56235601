package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"conjure/eval"
	"conjure/model"
	"conjure/restore"
	"conjure/sampler"
)

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep", "sweep --data DIR|SHARD.tar --out DIR [--tasks …] [--methods cpigdm] [--steps 5,10,20] [--w …] [--lambda …] [--tau0 …] [--presets FILE]", stderr)
	ef := addEvalFlags(fs)
	rf := addReportFlags(fs, "sweep.md and presets.json", "sweep")
	methods := fs.String("methods", string(sampler.CPiGDM), "comma-separated samplers to tune")
	ws := fs.String("w", "1,3,7.5,15", "comma-separated guidance weights w (';' separates the blocks of a union of grids)")
	lambdas := fs.String("lambda", "0", "comma-separated λ values (one list, or one per --w block)")
	tau0s := fs.String("tau0", "0.2,0.4,0.6", "comma-separated start times τ₀ (one list, or one per --w block)")
	slack := fs.Float64("psnr-slack", 0, "choose by texture: the lowest SWD among the points within this many `dB` of the best mean PSNR (0: the best PSNR)")
	presetsPath := fs.String("presets", "", "also merge the chosen presets into this presets.json `FILE` (e.g. restore/presets.json)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := rf.check(); err != nil {
		return err
	}
	if !(*slack >= 0) {
		return fmt.Errorf("--psnr-slack %g: want 0 dB or more", *slack)
	}
	obj := eval.Objective{PSNRSlack: *slack}
	var meths []sampler.Method
	for _, m := range split(*methods) {
		if _, err := sampler.Lookup(sampler.Method(m)); err != nil {
			return err
		}
		meths = append(meths, sampler.Method(m))
	}
	points, err := grid(*ws, *lambdas, *tau0s)
	if err != nil {
		return err
	}
	cfg, m, closeBackend, err := ef.config(stderr)
	if err != nil {
		return err
	}
	defer closeBackend()
	if err := os.MkdirAll(*rf.out, 0o755); err != nil {
		return err
	}
	resume, err := openTrials(filepath.Join(*rf.out, "trials.json"), ef, cfg, m)
	if err != nil {
		return err
	}
	var trials []*eval.Trial
	var chosen restore.Presets
	if err := guard(func() (err error) { trials, chosen, err = eval.Sweep(cfg, meths, points, obj, resume); return err }); err != nil {
		return err
	}
	err = rf.publish("sweep.md", stdout, func(w io.Writer) error {
		return eval.WriteSweep(w, ef.header("sweep", args, len(cfg.Images)), obj, trials)
	})
	if err != nil {
		return err
	}
	prior := restore.Prior(m.Config())
	mine := restore.Library{prior: chosen}
	if err := writeFile(filepath.Join(*rf.out, "presets.json"), func(w io.Writer) error { _, err := mine.WriteTo(w); return err }); err != nil {
		return err
	}
	if *presetsPath == "" {
		return nil
	}
	return mergePresets(*presetsPath, prior, chosen)
}

// mergePresets overwrites the entries of the presets file at path that
// chosen covers for the prior and keeps the others.
func mergePresets(path, prior string, chosen restore.Presets) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--presets: %w", err)
	}
	all, err := restore.ReadLibrary(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("--presets %s: %w", path, err)
	}
	all.Merge(prior, chosen)
	return writeFile(path, func(w io.Writer) error { _, err := all.WriteTo(w); return err })
}

// sweepRun identifies what a sweep's trials were measured on; trials.json
// is reused only by a sweep of the same run.
type sweepRun struct {
	// Metrics names what each trial holds, so trials of an older sweep
	// without a metric are not reused as if they had it.
	Metrics []string `json:"metrics"`
	Model   string   `json:"model"` // SHA-256 of the weights
	Data    string   `json:"data"`
	Skip    int      `json:"skip"`
	Limit   int      `json:"limit"`
	Seed    uint64   `json:"seed"`
	Images  []string `json:"images"`
	// Whole photos only: the crop and the working side change every trial.
	MaxSide int `json:"max_side,omitempty"`
	Work    int `json:"work,omitempty"`
}

// trialMetrics are the metrics of an eval.Trial.
var trialMetrics = []string{"psnr", "ssim", "consistency", "hf", "swd"}

// trialsFile is trials.json: every trial a sweep in this folder has run.
type trialsFile struct {
	Run    sweepRun      `json:"run"`
	Trials []*eval.Trial `json:"trials"`
}

// openTrials reads the trials an earlier sweep left at path, so an
// interrupted or extended sweep runs only what is new, and returns the
// Resume that keeps path up to date after every trial.
func openTrials(path string, ef *evalFlags, cfg eval.Config, m *model.Model) (*eval.Resume, error) {
	h := sha256.New()
	if _, err := m.WriteTo(h); err != nil {
		return nil, err
	}
	file := trialsFile{Run: sweepRun{Metrics: trialMetrics, Model: hex.EncodeToString(h.Sum(nil)), Data: *ef.data, Skip: *ef.skip, Limit: *ef.limit, Seed: *ef.seed}}
	if cfg.Photo {
		file.Run.MaxSide, file.Run.Work = *ef.maxSide, cfg.Work
	}
	for _, img := range cfg.Images {
		file.Run.Images = append(file.Run.Images, img.Name)
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		var old trialsFile
		if err := json.Unmarshal(b, &old); err != nil {
			return nil, fmt.Errorf("%s: %w (remove it to start the sweep afresh)", path, err)
		}
		if !reflect.DeepEqual(old.Run, file.Run) {
			return nil, fmt.Errorf("%s holds trials of another model, data, seed, image range or set of metrics: remove it or pick another --out", path)
		}
		file.Trials = old.Trials
	}
	save := func(tr *eval.Trial) error {
		file.Trials = append(file.Trials, tr)
		return writeFile(path, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", " ")
			return enc.Encode(file)
		})
	}
	return &eval.Resume{Done: slices.Clone(file.Trials), Save: save}, nil
}

// grid returns every (w, λ, τ₀) combination of the comma-separated lists;
// with ';'-separated blocks, the union of each block's combinations (a λ
// or τ₀ list without blocks applies to every block).
func grid(ws, lambdas, tau0s string) ([]restore.Preset, error) {
	wb, lb, tb := strings.Split(ws, ";"), strings.Split(lambdas, ";"), strings.Split(tau0s, ";")
	block := func(name string, b []string, i int) (string, error) {
		switch len(b) {
		case 1:
			return b[0], nil
		case len(wb):
			return b[i], nil
		}
		return "", fmt.Errorf("--%s has %d ';'-separated blocks, --w has %d: give one list or one per block", name, len(b), len(wb))
	}
	var points []restore.Preset
	for i := range wb {
		l, err := block("lambda", lb, i)
		if err != nil {
			return nil, err
		}
		t, err := block("tau0", tb, i)
		if err != nil {
			return nil, err
		}
		p, err := product(wb[i], l, t)
		if err != nil {
			return nil, err
		}
		for _, q := range p {
			if !slices.Contains(points, q) {
				points = append(points, q)
			}
		}
	}
	return points, nil
}

// product returns every (w, λ, τ₀) combination of three comma-separated
// lists.
func product(ws, lambdas, tau0s string) ([]restore.Preset, error) {
	parse := func(name, list string) ([]float64, error) {
		var v []float64
		for _, s := range split(list) {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, fmt.Errorf("--%s %q: want numbers", name, s)
			}
			v = append(v, x)
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("--%s: need at least one value", name)
		}
		return v, nil
	}
	w, err := parse("w", ws)
	if err != nil {
		return nil, err
	}
	l, err := parse("lambda", lambdas)
	if err != nil {
		return nil, err
	}
	t, err := parse("tau0", tau0s)
	if err != nil {
		return nil, err
	}
	var points []restore.Preset
	for _, a := range w {
		for _, b := range l {
			for _, c := range t {
				p := restore.Preset{W: a, Lambda: b, Tau0: c}
				o := sampler.DefaultOptions(sampler.CPiGDM)
				o.W, o.Lambda, o.Tau0 = a, b, c
				if _, err := o.Validate(); err != nil {
					return nil, fmt.Errorf("w=%g λ=%g τ₀=%g: %w", a, b, c, err)
				}
				points = append(points, p)
			}
		}
	}
	return points, nil
}
