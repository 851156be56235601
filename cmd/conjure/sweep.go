package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"conjure/eval"
	"conjure/restore"
	"conjure/sampler"
)

func runSweep(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sweep", "sweep --data DIR|SHARD.tar --out DIR [--tasks …] [--methods cpigdm] [--steps 5,10,20] [--w …] [--lambda …] [--tau0 …] [--presets FILE]", stderr)
	ef := addEvalFlags(fs)
	rf := addReportFlags(fs, "sweep.md and presets.json", "sweep")
	methods := fs.String("methods", string(sampler.CPiGDM), "comma-separated samplers to tune")
	ws := fs.String("w", "1,3,7.5,15", "comma-separated guidance weights w")
	lambdas := fs.String("lambda", "0", "comma-separated λ values")
	tau0s := fs.String("tau0", "0.2,0.4,0.6", "comma-separated start times τ₀")
	presetsPath := fs.String("presets", "", "also merge the chosen presets into this presets.json `FILE` (e.g. restore/presets.json)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := rf.check(); err != nil {
		return err
	}
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
	cfg, closeBackend, err := ef.config(stderr)
	if err != nil {
		return err
	}
	defer closeBackend()
	var trials []*eval.Trial
	var chosen restore.Presets
	if err := guard(func() (err error) { trials, chosen, err = eval.Sweep(cfg, meths, points); return err }); err != nil {
		return err
	}
	err = rf.publish("sweep.md", stdout, func(w io.Writer) error {
		return eval.WriteSweep(w, ef.header("sweep", args, len(cfg.Images)), trials)
	})
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(*rf.out, "presets.json"), func(w io.Writer) error { _, err := chosen.WriteTo(w); return err }); err != nil {
		return err
	}
	if *presetsPath == "" {
		return nil
	}
	return mergePresets(*presetsPath, chosen)
}

// mergePresets overwrites the entries of the presets file at path that
// chosen covers and keeps the others.
func mergePresets(path string, chosen restore.Presets) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--presets: %w", err)
	}
	all, err := restore.ReadPresets(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("--presets %s: %w", path, err)
	}
	for m, tasks := range chosen {
		for t, steps := range tasks {
			for n, p := range steps {
				all.Set(m, t, n, p)
			}
		}
	}
	return writeFile(path, func(w io.Writer) error { _, err := all.WriteTo(w); return err })
}

// grid returns every (w, λ, τ₀) combination of the comma-separated lists.
func grid(ws, lambdas, tau0s string) ([]restore.Preset, error) {
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
