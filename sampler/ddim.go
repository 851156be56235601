package sampler

import "conjure/operator"

// SampleDDIM is deterministic DDIM (η = 0): x' = μ_{τ'} x̂₀ + σ_{τ'} ε. It
// ignores the measurement: the unconditional baseline, and the w = λ = 0
// limit of C-ΠGDM.
func SampleDDIM(b Backend, x Vec, grid []float64, p *Problem, o Options, cb func(Step)) error {
	eps, x0 := b.NewVec(x.Len()), b.NewVec(x.Len())
	for i := range len(grid) - 1 {
		ma, sa, mb, sb := Mu(grid[i]), Sigma(grid[i]), Mu(grid[i+1]), Sigma(grid[i+1])
		b.Eps(eps, x, grid[i])
		if cb != nil {
			b.Combine(x0, Term{1 / ma, x}, Term{-sa / ma, eps}) // only for the report
		}
		b.Combine(x, Term{mb / ma, x}, Term{sb - sa*mb/ma, eps})
		report(cb, grid, i, x0)
	}
	return nil
}

// SampleDDNM is DDIM (η = 0) with DDNM's range–null-space correction
// x̂₀ ← x̂₀ − H†(Hx̂₀ − y) = (I − P)x̂₀ + H†y before each step. With noise it
// applies the same correction (plain DDNM, not DDNM+).
func SampleDDNM(b Backend, x Vec, grid []float64, p *Problem, o Options, cb func(Step)) error {
	d := x.Len()
	eps, x0, px0 := b.NewVec(d), b.NewVec(d), b.NewVec(d)
	for i := range len(grid) - 1 {
		ma, sa, mb, sb := Mu(grid[i]), Sigma(grid[i]), Mu(grid[i+1]), Sigma(grid[i+1])
		b.Eps(eps, x, grid[i])
		b.Combine(x0, Term{1 / ma, x}, Term{-sa / ma, eps})
		b.Apply(p.Op, operator.Project, px0, x0)
		b.Combine(x, Term{mb, x0}, Term{-mb, px0}, Term{mb, p.PinvY}, Term{sb, eps})
		report(cb, grid, i, x0)
	}
	return nil
}
