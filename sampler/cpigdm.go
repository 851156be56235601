package sampler

import "conjure/operator"

// SampleCPiGDM is the conditional conjugate integrator C-ΠGDM in the folded
// form of ALGORITHM.md §I.2. Per step the backend sees one forward and one
// VJP of the network, the residual's projection, one linear combination, one
// projection P and one more linear combination. With σ_y > 0 it is the
// noisy variant of NoisyFold: ΠGDM's noisy residual, and the range part
// applied through H, four spectral gains and Hᵀ instead of P.
func SampleCPiGDM(b Backend, x Vec, grid []float64, p *Problem, o Options, cb func(Step)) error {
	plan := CPiGDMPlan(grid, o.W, o.Lambda)
	var noisy []NoisyFold
	if p.SigmaY > 0 {
		noisy = NoisyPlan(grid, o.W, o.Lambda, p.SigmaY)
	}
	d, m := p.Op.In(), p.Op.Out()
	eps, g, v, r, x0 := b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(d)
	var ym, yn, acc Vec
	if noisy != nil {
		ym, yn, acc = b.NewVec(m), b.NewVec(m), b.NewVec(m)
	}
	for i, f := range plan {
		if noisy == nil {
			residual(b, p, x, grid[i], eps, v, x0)
			b.VJP(g, v)
			b.Combine(r, Term{f.AP - f.AQ, x}, Term{f.BP - f.BQ, eps}, Term{f.GP - f.GQ, g})
			b.Apply(p.Op, operator.Project, v, r)
			b.Combine(x, Term{f.AQ, x}, Term{f.BQ, eps}, Term{f.GQ, g}, Term{1, v}, Term{f.D, p.PinvY})
		} else {
			noisyResidual(b, p, x, grid[i], eps, v, x0, ym, yn)
			b.VJP(g, v)
			gx, ge, gg, gy := noisy[i].Gains()
			b.Gain(p.Op, acc, p.Y, gy)
			for _, t := range []struct {
				gain func(float64) float64
				v    Vec
			}{{gx, x}, {ge, eps}, {gg, g}} {
				b.Apply(p.Op, operator.Forward, ym, t.v)
				b.Gain(p.Op, yn, ym, t.gain)
				b.Combine(acc, Term{1, acc}, Term{1, yn})
			}
			b.Apply(p.Op, operator.Adjoint, v, acc)
			b.Combine(x, Term{f.AQ, x}, Term{f.BQ, eps}, Term{f.GQ, g}, Term{1, v})
		}
		report(cb, grid, i, x0)
	}
	return nil
}

// residual sets eps = ε(x, τ), r = Tweedie's x̂₀ = (x − σ_τ ε)/μ_τ and
// v = H†y − P x̂₀.
func residual(b Backend, p *Problem, x Vec, tau float64, eps, v, r Vec) {
	b.Eps(eps, x, tau)
	mu, s := Mu(tau), Sigma(tau)
	b.Combine(r, Term{1 / mu, x}, Term{-s / mu, eps})
	b.Apply(p.Op, operator.Project, v, r)
	b.Combine(v, Term{1, p.PinvY}, Term{-1, v})
}

// noisyResidual sets eps = ε(x, τ), r = x̂₀ and ΠGDM's noisy residual
// v = r²Hᵀ(r²HHᵀ + σ_y²I)⁻¹(y − Hx̂₀) with r² = σ_τ², which is
// Π_τ(H†y − x̂₀) (NoisyFold) and H†y − Px̂₀ at σ_y = 0; ym and yn are
// measurement-sized scratch.
func noisyResidual(b Backend, p *Problem, x Vec, tau float64, eps, v, r, ym, yn Vec) {
	b.Eps(eps, x, tau)
	mu, s := Mu(tau), Sigma(tau)
	b.Combine(r, Term{1 / mu, x}, Term{-s / mu, eps})
	b.Apply(p.Op, operator.Forward, ym, r)
	b.Combine(ym, Term{1, p.Y}, Term{-1, ym})
	b.Gain(p.Op, yn, ym, operator.NoisyGain(s*s, p.SigmaY*p.SigmaY))
	b.Apply(p.Op, operator.Adjoint, v, yn)
	b.Combine(v, Term{s * s, v})
}
