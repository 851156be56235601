package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"conjure/operator"
)

// Method names a sampler.
type Method string

// The samplers of this package.
const (
	CPiGDM Method = "cpigdm" // conditional conjugate integrator (ALGORITHM.md §I.2, §3.8)
	PiGDM  Method = "pigdm"  // continuous ΠGDM with λ-DDIM prior step (§2.3)
	DDIM   Method = "ddim"   // unconditional DDIM, η = 0: ignores the measurement
	DDNM   Method = "ddnm"   // DDIM with DDNM's null-space correction of x̂₀
	DPS    Method = "dps"    // DDIM with the DPS gradient step
)

// Methods lists every Method, in the order tools should present them.
var Methods = []Method{CPiGDM, PiGDM, DDNM, DPS, DDIM}

// Options are the knobs of a run; the zero value of a field is not a
// default, so use DefaultOptions and change what differs.
type Options struct {
	Method Method
	Steps  int     // network evaluations N ≥ 1
	Tau0   float64 // start time τ₀ of the SDEdit-style initialisation
	TauEnd float64 // final time τ_N > 0; the output is x at τ_N
	// W is the guidance weight: C-ΠGDM's and ΠGDM's w, DPS's step size
	// (the official DPS "scale", applied to ∇‖y − Hx̂₀‖). DDIM and DDNM
	// ignore it.
	W float64
	// Lambda is the conjugate integrator's λ (C-ΠGDM and ΠGDM only).
	Lambda float64
}

// DefaultOptions returns the paper's documented setting (4× SR, 5 NFE:
// w = 15, λ = 0, τ₀ = 0.4, τ_N = 0.001) for method m.
func DefaultOptions(m Method) Options {
	return Options{Method: m, Steps: 5, Tau0: 0.4, TauEnd: 0.001, W: 15}
}

// Problem is a measurement y = Hx + σ_y·n held on a Backend, with H†y
// computed once.
type Problem struct {
	Op     operator.Operator
	Y      Vec     // the measurement, length Op.Out()
	PinvY  Vec     // H†y, length Op.In()
	SigmaY float64 // standard deviation of the measurement noise, in [−1, 1] image units
}

// NewProblem uploads y to b and prepares H†y.
func NewProblem(b Backend, op operator.Operator, y []float64, sigmaY float64) (*Problem, error) {
	if len(y) != op.Out() {
		return nil, fmt.Errorf("sampler: measurement has %d values, operator expects %d", len(y), op.Out())
	}
	if !(sigmaY >= 0) || math.IsInf(sigmaY, 0) {
		return nil, fmt.Errorf("sampler: sigma_y = %v, need a finite value ≥ 0", sigmaY)
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sampler: measurement value %d is %v", i, v)
		}
	}
	p := &Problem{Op: op, Y: b.NewVec(op.Out()), PinvY: b.NewVec(op.In()), SigmaY: sigmaY}
	b.Write(p.Y, y)
	b.Apply(op, operator.Pinv, p.PinvY, p.Y)
	return p, nil
}

// Step reports progress: step I of N (1-based) has taken x from τ = From to
// τ = To. The same payload serves every sampler.
type Step struct {
	I, N     int
	From, To float64
	// X0 is the step's Tweedie estimate x̂₀ = (x − σ ε(x, From))/μ at
	// From, on the backend: a preview of the result. It is valid only
	// during the callback.
	X0 Vec
}

// Sampler advances x in place along grid (descending τ) for problem p and
// calls cb, if not nil, after each step. Every sampler has this signature.
type Sampler func(b Backend, x Vec, grid []float64, p *Problem, o Options, cb func(Step)) error

// Lookup returns the sampler for m.
func Lookup(m Method) (Sampler, error) {
	switch m {
	case CPiGDM:
		return SampleCPiGDM, nil
	case PiGDM:
		return SamplePiGDM, nil
	case DDIM:
		return SampleDDIM, nil
	case DDNM:
		return SampleDDNM, nil
	case DPS:
		return SampleDPS, nil
	}
	return nil, fmt.Errorf("sampler: unknown method %q (want one of %v)", m, Methods)
}

// Validate checks o and returns its grid.
func (o Options) Validate() ([]float64, error) {
	if _, err := Lookup(o.Method); err != nil {
		return nil, err
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"w", o.W}, {"lambda", o.Lambda}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			return nil, fmt.Errorf("sampler: %s = %v, need a finite number", v.name, v.x)
		}
	}
	if o.W < 0 {
		return nil, fmt.Errorf("sampler: w = %v, need w ≥ 0", o.W)
	}
	return Grid(o.Tau0, o.TauEnd, o.Steps)
}

// Noise returns n standard normal values drawn from a generator seeded with
// seed: the initial noise z of Run, reproducible on every backend.
func Noise(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x636f6e6a757265)) // "conjure"
	z := make([]float64, n)
	for i := range z {
		z[i] = r.NormFloat64()
	}
	return z
}

// Start is where Run begins, in the sense of CCDF (Chung, Sim & Ye, CVPR
// 2022): the reverse process starts at τ₀ from a good estimate x̃ of the
// image instead of from pure noise,
//
//	x_{τ₀} = μ_{τ₀}·x̃ + √(σ_{τ₀}² − μ_{τ₀}²·s²)·z,
//
// where s is the standard deviation of the white noise x̃ already carries
// (Noise), so that x_{τ₀} has the noise level the network expects at τ₀. A
// noisy photo to denoise started at the τ where σ_τ/μ_τ = s gets no fresh
// noise at all. The zero Start is ALGORITHM.md §I.1's initialisation:
// x̃ = H†y at the options' τ₀, with fresh noise σ_{τ₀}·z.
type Start struct {
	// Estimate is x̃, of length Op.In(); nil means H†y.
	Estimate []float64
	// Tau is the start time τ₀; 0 means the options' Tau0.
	Tau float64
	// Noise is the standard deviation of the white noise in the estimate,
	// at most σ_τ/μ_τ at the start time; 0 for a clean estimate.
	Noise float64
	// Deterministic takes the estimate's own error as the noise at the
	// start time: x_{τ₀} = μ_{τ₀}·x̃ with no fresh noise, for an estimate
	// whose error is about that large (a deconvolution's ringing and
	// amplified noise, an upscaler's missing detail). Noise, if > 0, then
	// caps the error it stands for: a start later than the τ where
	// σ_τ/μ_τ = Noise tops the rest up with fresh noise.
	Deterministic bool
}

// Run restores from p with the sampler o.Method: it initialises x at the
// start s and runs the sampler to τ_N. z has length p.Op.In(). It returns
// x_N on the backend.
func Run(b Backend, p *Problem, o Options, s Start, z []float64, cb func(Step)) (Vec, error) {
	if s.Tau != 0 {
		if !(s.Tau > 0 && s.Tau <= 1) {
			return nil, fmt.Errorf("sampler: start time τ = %v, need 0 < τ ≤ 1", s.Tau)
		}
		o.Tau0 = s.Tau
	}
	grid, err := o.Validate()
	if err != nil {
		return nil, err
	}
	if len(z) != p.Op.In() {
		return nil, fmt.Errorf("sampler: noise has %d values, image has %d", len(z), p.Op.In())
	}
	x := b.NewVec(p.Op.In())
	est := p.PinvY
	if s.Estimate != nil {
		if len(s.Estimate) != p.Op.In() {
			return nil, fmt.Errorf("sampler: start estimate has %d values, image has %d", len(s.Estimate), p.Op.In())
		}
		if i := slices.IndexFunc(s.Estimate, func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }); i >= 0 {
			return nil, fmt.Errorf("sampler: start estimate value %d is %v", i, s.Estimate[i])
		}
		est = b.NewVec(p.Op.In())
		b.Write(est, s.Estimate)
	}
	mu, sigma := Mu(grid[0]), Sigma(grid[0])
	if s.Deterministic && (s.Noise == 0 || s.Noise >= sigma/mu) {
		s.Noise = sigma / mu
	}
	if !(s.Noise >= 0) || s.Noise*mu > sigma*(1+1e-9) {
		return nil, fmt.Errorf("sampler: the start estimate's noise %v is not in [0, %v], the level at τ = %v", s.Noise, sigma/mu, grid[0])
	}
	fresh := math.Sqrt(math.Max(sigma*sigma-mu*mu*s.Noise*s.Noise, 0))
	if s.Deterministic && s.Noise == sigma/mu {
		fresh = 0 // exactly, not the round-off of σ² − μ²(σ/μ)²
	}
	b.Write(x, z)
	b.Combine(x, Term{mu, est}, Term{fresh, x})
	sample, _ := Lookup(o.Method)
	if err := sample(b, x, grid, p, o, cb); err != nil {
		return nil, err
	}
	return x, nil
}

// report calls cb for step i of grid, whose x̂₀ is x0, if cb is set.
func report(cb func(Step), grid []float64, i int, x0 Vec) {
	if cb != nil {
		cb(Step{I: i + 1, N: len(grid) - 1, From: grid[i], To: grid[i+1], X0: x0})
	}
}

// Solve prepares the problem (op, y, σ_y) on b, runs Run from the start s
// with the initial noise z and reads x_N back to the CPU.
func Solve(b Backend, op operator.Operator, y []float64, sigmaY float64, o Options, s Start, z []float64, cb func(Step)) ([]float64, error) {
	p, err := NewProblem(b, op, y, sigmaY)
	if err != nil {
		return nil, err
	}
	x, err := Run(b, p, o, s, z, cb)
	if err != nil {
		return nil, err
	}
	out := make([]float64, op.In())
	b.Read(out, x)
	return out, nil
}
