// Command conjure restores photos with a diffusion prior and the C-ΠGDM
// sampler, and runs Conjure's toy problems, evaluations and benchmarks.
//
// Usage:
//
//	conjure restore --task TASK --input IN.png --out OUT.png [flags]
//	conjure eval --data DIR --out DIR [flags]
//	conjure sweep --data DIR --out DIR [flags]
//	conjure toy --problem FILE.json
//	conjure bench [--backend cpu,gpu] [--steps 5] [--repeat 3] [--json]
//
// Run "conjure COMMAND --help" for a command's flags.
package main

import (
	"fmt"
	"io"
	"os"
)

// exitUsage is the exit status for bad input: flags, files or values.
const exitUsage = 2

// command is one subcommand: it parses args and returns an error that main
// reports on one line.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"restore", "restore a photo (or degrade and restore it with --simulate)", runRestore},
	{"eval", "measure every task and method on held-out images; write a report", runEval},
	{"sweep", "tune w, λ, τ₀ per task and step count; write the chosen presets", runSweep},
	{"bench", "time the network kernels and whole restorations on the CPU and the GPU", runBench},
	{"toy", "run a sampler on a Gaussian toy problem and print the final state", runToy},
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			if err := c.run(args[1:], stdout, stderr); err != nil {
				if err == errHelp {
					return 0
				}
				fmt.Fprintf(stderr, "conjure %s: %v\n", c.name, err)
				return exitUsage
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "conjure: unknown command %q; run 'conjure help' for the list\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: conjure COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}
