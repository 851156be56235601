package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"conjure/eval"
	"conjure/imaging"
	"conjure/restore"
	"conjure/sampler"
)

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval --data DIR|SHARD.tar --out DIR [--tasks …] [--methods …] [--steps 5,10,20] [--limit N]", stderr)
	data := fs.String("data", "", "evaluation images: a directory of PNG/JPEG files or a tar shard of them")
	out := fs.String("out", "", "output `DIR` for report.md and the montages")
	tasks := fs.String("tasks", allTasks(), "comma-separated tasks")
	methods := fs.String("methods", strings.Join(eval.Methods, ","), "comma-separated methods")
	steps := fs.String("steps", "5,10,20", "comma-separated step counts")
	limit := fs.Int("limit", 0, "use only the first N images (0: all)")
	keep := fs.Int("keep", 4, "images per montage")
	seed := fs.Uint64("seed", 0, "seed of masks, measurement noise and initial noise")
	backend := fs.String("backend", "cpu", "where to run: cpu or gpu")
	modelPath := fs.String("model", "", "weight `FILE` (default: the shipped model)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *data == "" || *out == "" {
		return errors.New("--data and --out are required")
	}
	cfg := eval.Config{Seed: *seed}
	for _, n := range split(*tasks) {
		t, err := eval.LookupTask(n)
		if err != nil {
			return err
		}
		cfg.Tasks = append(cfg.Tasks, t)
	}
	for _, m := range split(*methods) {
		if !slices.Contains(eval.Methods, m) {
			return fmt.Errorf("unknown method %q (want some of %v)", m, eval.Methods)
		}
		cfg.Methods = append(cfg.Methods, m)
	}
	for _, s := range split(*steps) {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("--steps %q: want positive integers", s)
		}
		cfg.Steps = append(cfg.Steps, n)
	}
	m, err := loadModel(*modelPath)
	if err != nil {
		return err
	}
	cfg.Res = m.Config().Resolution
	if cfg.Images, err = eval.LoadImages(*data, cfg.Res, *limit); err != nil {
		return err
	}
	b, closeBackend, err := openBackend(*backend, m)
	if err != nil {
		return err
	}
	defer closeBackend()
	cfg.Backend = func() sampler.Backend { return b }
	cfg.Options = func(t eval.Task, meth sampler.Method, n int) sampler.Options { return restore.Options(t.Base, meth, n) }
	cfg.Progress = func(done, total int, what string) {
		fmt.Fprintf(stderr, "\reval %s %d/%d (%s)%s", bar(done, total), done, total, what, strings.Repeat(" ", 8))
		if done == total {
			fmt.Fprintln(stderr)
		}
	}
	var rows []*eval.Row
	if err := guard(func() (err error) { rows, err = eval.Run(cfg, *keep); return err }); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	name := *modelPath
	if name == "" {
		name = "models/face64.safetensors (shipped)"
	}
	f, err := os.Create(filepath.Join(*out, "report.md"))
	if err != nil {
		return err
	}
	h := eval.Header{Model: name, Data: *data, Images: len(cfg.Images), Seed: *seed, Command: "conjure eval " + strings.Join(args, " ")}
	if err := eval.WriteReport(io.MultiWriter(f, stdout), h, rows); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if *keep == 0 {
		return nil
	}
	for _, t := range cfg.Tasks {
		img, err := eval.Montage(t, cfg, rows, 2)
		if err != nil {
			return err
		}
		if err := imaging.Save(filepath.Join(*out, t.Name+".png"), img); err != nil {
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
