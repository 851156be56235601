// Package gaussian is the exact denoiser of a Gaussian prior x₀ ~ N(m, S)
// under the VP schedule (ALGORITHM.md §6.1). It fills the network's role
// (ε and its exact vector–Jacobian product) in tests and toy problems, where
// every sampler's output can be checked against float64 references.
package gaussian

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"conjure/sampler"
)

// Prior is the exact ε(x, τ) = (x − μ x̂₀)/σ of N(m, S), with
// x̂₀ = m + μ S K⁻¹(x − μ m) and K = μ²S + σ²I. It satisfies cpu.Network.
// A Prior is not safe for concurrent use: Eps keeps τ for VJP.
type Prior struct {
	mean []float64
	cov  *mat.SymDense
	tau  float64
	chol mat.Cholesky // of K at tau
	ok   bool         // chol holds K(tau)
}

// New returns the denoiser of N(mean, cov). cov must be symmetric and
// positive semi-definite (a zero matrix is a point mass).
func New(mean []float64, cov [][]float64) (*Prior, error) {
	d := len(mean)
	if d == 0 {
		return nil, errors.New("gaussian: empty mean")
	}
	if len(cov) != d {
		return nil, fmt.Errorf("gaussian: covariance has %d rows, mean has %d entries", len(cov), d)
	}
	s := mat.NewSymDense(d, nil)
	for i, row := range cov {
		if len(row) != d {
			return nil, fmt.Errorf("gaussian: covariance row %d has %d entries, want %d", i, len(row), d)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("gaussian: covariance[%d][%d] is %v", i, j, v)
			}
			if math.Abs(v-cov[j][i]) > 1e-12*(1+math.Abs(v)) {
				return nil, fmt.Errorf("gaussian: covariance is not symmetric at [%d][%d]: %v vs %v", i, j, v, cov[j][i])
			}
		}
	}
	for i := range d {
		for j := i; j < d; j++ {
			s.SetSym(i, j, cov[i][j])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(s, false) {
		return nil, errors.New("gaussian: eigen-decomposition of the covariance failed")
	}
	vals := eig.Values(nil)
	if vals[0] < -1e-12*math.Max(1, vals[d-1]) {
		return nil, fmt.Errorf("gaussian: covariance is not positive semi-definite (eigenvalue %g)", vals[0])
	}
	for i, v := range mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("gaussian: mean[%d] is %v", i, v)
		}
	}
	return &Prior{mean: append([]float64(nil), mean...), cov: s}, nil
}

// Dim returns the dimension d.
func (p *Prior) Dim() int { return len(p.mean) }

// factor prepares the Cholesky factor of K = μ²S + σ²I at tau.
func (p *Prior) factor(tau float64) {
	if p.ok && p.tau == tau {
		return
	}
	d := p.Dim()
	mu, s := sampler.Mu(tau), sampler.Sigma(tau)
	k := mat.NewSymDense(d, nil)
	k.ScaleSym(mu*mu, p.cov)
	for i := range d {
		k.SetSym(i, i, k.At(i, i)+s*s)
	}
	if !p.chol.Factorize(k) {
		panic("gaussian: K = μ²S + σ²I is not positive definite") // impossible for σ > 0
	}
	p.tau, p.ok = tau, true
}

// Eps sets dst = ε(x, τ).
func (p *Prior) Eps(dst, x []float64, tau float64) {
	d := p.Dim()
	if len(dst) != d || len(x) != d {
		panic("gaussian: length mismatch")
	}
	p.factor(tau)
	mu, s := sampler.Mu(tau), sampler.Sigma(tau)
	r := mat.NewVecDense(d, nil)
	for i := range d {
		r.SetVec(i, x[i]-mu*p.mean[i])
	}
	var u, su mat.VecDense
	if err := p.chol.SolveVecTo(&u, r); err != nil {
		panic("gaussian: " + err.Error())
	}
	su.MulVec(p.cov, &u)
	for i := range d {
		x0 := p.mean[i] + mu*su.AtVec(i)
		dst[i] = (x[i] - mu*x0) / s
	}
}

// VJP sets dst = J_εᵀ v = (v − μ² K⁻¹ S v)/σ at the τ of the latest Eps
// (J_ε does not depend on x for a Gaussian prior).
func (p *Prior) VJP(dst, v []float64) {
	d := p.Dim()
	if len(dst) != d || len(v) != d || !p.ok {
		panic("gaussian: VJP needs a preceding Eps and matching lengths")
	}
	mu, s := sampler.Mu(p.tau), sampler.Sigma(p.tau)
	var sv, u mat.VecDense
	sv.MulVec(p.cov, mat.NewVecDense(d, append([]float64(nil), v...)))
	if err := p.chol.SolveVecTo(&u, &sv); err != nil {
		panic("gaussian: " + err.Error())
	}
	for i := range d {
		dst[i] = (v[i] - mu*mu*u.AtVec(i)) / s
	}
}
