package sampler

import "conjure/operator"

// SampleCPiGDM is the conditional conjugate integrator C-ΠGDM in the folded
// form of ALGORITHM.md §I.2. Per step the backend sees one forward and one
// VJP of the network, the residual's projection, one linear combination, one
// projection P and one more linear combination. With σ_y > 0 it is the noisy
// variant of §3.8, folded the same way (two more applications of
// M = H†H†ᵀ per step).
func SampleCPiGDM(b Backend, x Vec, grid []float64, p *Problem, o Options, cb func(Step)) error {
	plan := CPiGDMPlan(grid, o.W, o.Lambda)
	var noisy []NoisyFold
	if p.SigmaY > 0 {
		noisy = NoisyPlan(grid, o.W, o.Lambda, p.SigmaY)
	}
	d := p.Op.In()
	eps, g, v, r, x0 := b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(d), b.NewVec(d)
	m1, m2, ym := b.NewVec(d), b.NewVec(d), b.NewVec(p.Op.Out())
	for i, f := range plan {
		residual(b, p, x, grid[i], eps, v, x0)
		b.VJP(g, v)
		extra := []Term{}
		if noisy != nil {
			n := noisy[i]
			b.Combine(r, Term{n.X, x}, Term{n.Y, p.PinvY}, Term{n.S, eps}, Term{n.J, g})
			applyM(b, p.Op, m1, r, ym)
			b.Combine(r, Term{f.AP, x}, Term{f.D, p.PinvY}, Term{f.BP, eps}, Term{f.GP, g}, Term{1, m1})
			applyM(b, p.Op, m2, r, ym)
			extra = []Term{{1, m1}, {-n.Kappa, m2}}
		}
		b.Combine(r, Term{f.AP - f.AQ, x}, Term{f.BP - f.BQ, eps}, Term{f.GP - f.GQ, g})
		b.Apply(p.Op, operator.Project, v, r)
		b.Combine(x, append([]Term{{f.AQ, x}, {f.BQ, eps}, {f.GQ, g}, {1, v}, {f.D, p.PinvY}}, extra...)...)
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

// applyM sets dst = M src = H†(H†ᵀ src), with ym (length m) as scratch.
func applyM(b Backend, op operator.Operator, dst, src, ym Vec) {
	b.Apply(op, operator.PinvAdjoint, ym, src)
	b.Apply(op, operator.Pinv, dst, ym)
}
