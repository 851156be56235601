package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"conjure/toy"
)

// errHelp reports that a command printed its help; main exits with 0.
var errHelp = errors.New("help requested")

// newFlags returns a flag set that prints its usage to stderr and reports
// parse errors as values.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: conjure %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args into fs, mapping -h to errHelp and refusing positional
// arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errors.New("bad flags (see --help)")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	return nil
}

func runToy(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("toy", "toy --problem FILE.json", stderr)
	path := fs.String("problem", "", "toy problem `FILE` (JSON: method, H, mean, cov, y, z, lambda, w, steps, tau0, tau_end, sigma_y)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("--problem FILE.json is required")
	}
	f, err := os.Open(*path)
	if err != nil {
		return err
	}
	defer f.Close()
	p, err := toy.Decode(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	x, err := toy.Solve(p)
	if err != nil {
		return fmt.Errorf("%s: %w", *path, err)
	}
	return json.NewEncoder(stdout).Encode(struct {
		X []float64 `json:"x"`
	}{x})
}
