package sampler

import "math"

// SamplePiGDM is the continuous ΠGDM baseline of the reference code
// (ALGORITHM.md §2.3): the λ-DDIM prior step plus an explicit Euler step of
// the guidance ½·w·β·J_{x̂₀}ᵀ v, with J_{x̂₀}ᵀ v = (v − σ J_εᵀ v)/μ. Without
// noise v = H†y − P x̂₀; with σ_y > 0 it is ΠGDM's noisy form
// v = r²Hᵀ(r²HHᵀ + σ_y²I)⁻¹(y − Hx̂₀) with r² = σ_τ², which reduces to the
// former at σ_y = 0.
func SamplePiGDM(b Backend, x Vec, grid []float64, p *Problem, o Options, cb func(Step)) error {
	prior := CPiGDMPlan(grid, 0, o.Lambda) // the Q part of a w = 0 fold is λ-DDIM
	d := p.Op.In()
	eps, g, v, r, ym, yn := b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(p.Op.Out()), b.NewVec(p.Op.Out())
	for i, f := range prior {
		ta, tb := grid[i], grid[i+1]
		mu, s := Mu(ta), Sigma(ta)
		if p.SigmaY > 0 {
			noisyResidual(b, p, x, ta, eps, v, r, ym, yn)
		} else {
			residual(b, p, x, ta, eps, v, r)
		}
		b.VJP(g, v)
		k := o.W / 2 * Beta(ta) * math.Exp(logE1(ta, o.Lambda)-logE1(tb, o.Lambda)) * (ta - tb)
		b.Combine(x, Term{f.AQ, x}, Term{f.BQ, eps}, Term{k / mu, v}, Term{-k * s / mu, g})
		report(cb, grid, i, r)
	}
	return nil
}
