// Package toy solves Gaussian toy problems exactly as Conjure restores
// images — same operators, same samplers, CPU backend — but with the exact
// denoiser of a Gaussian prior in the network's role, so every output can be
// checked against float64 references (ALGORITHM.md §6.6).
package toy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/gonum/mat"

	"conjure/cpu"
	"conjure/operator"
	"conjure/sampler"
	"conjure/sampler/gaussian"
)

// Problem is the JSON description of a toy problem: prior N(Mean, Cov),
// measurement Y = H x₀ (+ noise of standard deviation SigmaY), initial noise
// Z, and the sampler's options. Optional fields default to the paper's
// setting (see sampler.DefaultOptions).
type Problem struct {
	Method string      `json:"method"`
	H      [][]float64 `json:"H"`
	Mean   []float64   `json:"mean"`
	Cov    [][]float64 `json:"cov"`
	Y      []float64   `json:"y"`
	Z      []float64   `json:"z"`
	Lambda *float64    `json:"lambda"`
	W      *float64    `json:"w"`
	Steps  *int        `json:"steps"`
	Tau0   *float64    `json:"tau0"`
	TauEnd *float64    `json:"tau_end"`
	SigmaY *float64    `json:"sigma_y"`
}

// Decode reads one Problem from r, rejecting unknown fields and trailing data.
func Decode(r io.Reader) (*Problem, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Problem
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("malformed JSON: data after the problem object")
	}
	return &p, nil
}

// Options returns the sampler options of p, with defaults filled in.
func (p *Problem) Options() sampler.Options {
	o := sampler.DefaultOptions(sampler.Method(p.Method))
	set := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&o.Lambda, p.Lambda)
	set(&o.W, p.W)
	set(&o.Tau0, p.Tau0)
	set(&o.TauEnd, p.TauEnd)
	if p.Steps != nil {
		o.Steps = *p.Steps
	}
	return o
}

// Solve validates p and returns the sampler's final state x_N.
func Solve(p *Problem) ([]float64, error) {
	if p.Method == "" {
		return nil, errors.New(`missing "method" (cpigdm, pigdm or ddim)`)
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"H", len(p.H)}, {"mean", len(p.Mean)}, {"cov", len(p.Cov)}, {"y", len(p.Y)}, {"z", len(p.Z)}} {
		if f.n == 0 {
			return nil, fmt.Errorf("missing or empty %q", f.name)
		}
	}
	d, m := len(p.Mean), len(p.H)
	for i, row := range p.H {
		if len(row) != d {
			return nil, fmt.Errorf("H row %d has %d columns, but mean has %d entries", i, len(row), d)
		}
	}
	if len(p.Y) != m {
		return nil, fmt.Errorf("y has %d entries, but H has %d rows", len(p.Y), m)
	}
	if len(p.Z) != d {
		return nil, fmt.Errorf("z has %d entries, but mean has %d", len(p.Z), d)
	}
	if err := positiveDefinite(p.Cov, d); err != nil {
		return nil, err
	}
	op, err := operator.NewDense(p.H)
	if err != nil {
		return nil, err
	}
	prior, err := gaussian.New(p.Mean, p.Cov)
	if err != nil {
		return nil, err
	}
	sigmaY := 0.0
	if p.SigmaY != nil {
		sigmaY = *p.SigmaY
	}
	return Run(prior, op, p.Y, sigmaY, p.Options(), p.Z)
}

// Run samples with the exact denoiser prior on the CPU backend and returns x_N.
func Run(prior *gaussian.Prior, op operator.Operator, y []float64, sigmaY float64, o sampler.Options, z []float64) ([]float64, error) {
	return sampler.Solve(cpu.New(prior), op, y, sigmaY, o, sampler.Start{}, z, nil)
}

// positiveDefinite checks that cov is a d×d symmetric positive definite matrix.
func positiveDefinite(cov [][]float64, d int) error {
	if len(cov) != d {
		return fmt.Errorf("cov has %d rows, but mean has %d entries", len(cov), d)
	}
	s := mat.NewSymDense(d, nil)
	for i, row := range cov {
		if len(row) != d {
			return fmt.Errorf("cov row %d has %d entries, want %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("cov[%d][%d] is %v", i, j, v)
			}
			if v != cov[j][i] {
				return fmt.Errorf("cov is not symmetric: cov[%d][%d] = %v but cov[%d][%d] = %v", i, j, v, j, i, cov[j][i])
			}
			if j >= i {
				s.SetSym(i, j, v)
			}
		}
	}
	var c mat.Cholesky
	if !c.Factorize(s) {
		return errors.New("cov is not positive definite")
	}
	return nil
}
