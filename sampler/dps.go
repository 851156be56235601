package sampler

import (
	"math"

	"conjure/operator"
)

// SampleDPS is diffusion posterior sampling on a deterministic DDIM (η = 0)
// grid, as the reference code's DPS baseline: after the DDIM step it moves
// x by −W·∇_x‖y − Hx̂₀(x)‖ (the official DPS "scale"; the reference port's
// ζ is W/2). The gradient is −(Hᵀr − σ J_εᵀHᵀr)/(μ‖r‖) with r = y − Hx̂₀.
// Each step reads ‖r‖ back from the backend.
func SampleDPS(b Backend, x Vec, grid []float64, p *Problem, o Options, cb func(Step)) error {
	d := x.Len()
	eps, x0, u, g, res := b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(p.Op.Out())
	for i := range len(grid) - 1 {
		ma, sa, mb, sb := Mu(grid[i]), Sigma(grid[i]), Mu(grid[i+1]), Sigma(grid[i+1])
		b.Eps(eps, x, grid[i])
		b.Combine(x0, Term{1 / ma, x}, Term{-sa / ma, eps})
		b.Apply(p.Op, operator.Forward, res, x0)
		b.Combine(res, Term{1, p.Y}, Term{-1, res})
		b.Apply(p.Op, operator.Adjoint, u, res)
		b.VJP(g, u)
		c := 0.0
		if n := math.Sqrt(b.Dot(res, res)); n > 0 {
			c = o.W / (n * ma)
		}
		b.Combine(x, Term{mb / ma, x}, Term{sb - sa*mb/ma, eps}, Term{c, u}, Term{-c * sa, g})
		report(cb, grid, i, x0)
	}
	return nil
}
