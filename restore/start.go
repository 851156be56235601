package restore

import (
	"fmt"

	"conjure/classical"
	"conjure/imaging"
	"conjure/operator"
	"conjure/sampler"
)

// MinStartTau is the earliest start a task's own estimate gets: a grid
// must have room for its steps above the samplers' final τ_N = 0.001.
const MinStartTau = 0.004

// StartFor returns where the sampler starts for task t, whose operator op
// measured y with noise sigmaY (CCDF: begin the reverse process from a good
// estimate rather than from H†y).
//
//   - Inpainting starts from the harmonic fill of the holes
//     (classical.Harmonic): H†y is mid-grey there, and a few steps of a small
//     prior cannot pull the colour back from grey.
//   - Denoising (H = I) starts from y itself at the τ where σ_τ/μ_τ = σ_y,
//     adding no noise: y already is x + σ_y·n, exactly what the network
//     removes at that τ.
//   - Super-resolution starts deterministically, like deblurring, from
//     the Lanczos upscale made consistent with y (paste), whose
//     error up to SRStartError stands for the noise at τ₀.
//   - Deblurring starts from the Wiener solution (classical.Wiener), which
//     does not divide rounding noise by the blur's smallest gains as H†y
//     does, deterministically: its error (ringing, amplified noise, what
//     it could not sharpen) stands for the noise at the preset's τ₀, so
//     the network removes it instead of fresh noise on top.
//
// Colourisation starts from H†y at the preset's τ₀ (the zero Start).
func StartFor(t Task, op operator.Operator, y []float64, sigmaY float64) (sampler.Start, error) {
	switch t {
	case Inpaint:
		in, ok := op.(*operator.Inpaint)
		if !ok {
			return sampler.Start{}, fmt.Errorf("restore: inpainting with a %T operator", op)
		}
		c, h, w := in.Shape()
		x := make([]float64, op.In())
		op.Pinv(x, y)
		fill, err := classical.Harmonic(x, c, h, w, in.Mask()[:h*w])
		if err != nil {
			return sampler.Start{}, fmt.Errorf("the starting fill of the holes failed: %w", err)
		}
		return sampler.Start{Estimate: fill}, nil
	case Denoise:
		if sigmaY <= 0 {
			return sampler.Start{}, nil
		}
		x := make([]float64, op.In())
		op.Pinv(x, y)
		return sampler.Start{Estimate: x, Tau: max(sampler.TauAtRatio(sigmaY), MinStartTau), Noise: sigmaY}, nil
	case Deblur:
		x, err := classical.Wiener(op, y, classical.WienerRatio(sigmaY))
		if err != nil {
			return sampler.Start{}, fmt.Errorf("the starting Wiener estimate failed: %w", err)
		}
		return sampler.Start{Estimate: x, Deterministic: true}, nil
	case SR4, SR2, SR4Box:
		sh, ok := op.(interface{ Shape() (c, h, w int) })
		if !ok {
			return sampler.Start{}, fmt.Errorf("restore: super-resolution with a %T operator", op)
		}
		c, h, w := sh.Shape()
		f := Factor(t)
		x := imaging.ResizeLanczos(y, c, h/f, w/f, h, w)
		paste(op, x, y)
		return sampler.Start{Estimate: x, Deterministic: true, Noise: SRStartError}, nil
	}
	return sampler.Start{}, nil
}

// SRStartError caps the error a super-resolution start's Lanczos estimate
// stands for, in [−1, 1] units: a preset that starts later (the face
// model's τ₀ = 0.4) adds fresh noise above it. About four times the RMS
// error of Lanczos 4× on the tuning photos (0.13), so the photo presets'
// starts (τ₀ ≤ 0.1, where σ_τ/μ_τ ≤ 0.34) stay deterministic.
const SRStartError = 0.5
