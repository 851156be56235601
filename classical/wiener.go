package classical

import (
	"fmt"
	"math"

	"conjure/operator"
)

// Wiener returns the Wiener deconvolution of y for the linear degradation
// op under a white signal prior: x = Hᵀ(HHᵀ + k·I)⁻¹ y, the minimiser of
// ‖y − Hx‖² + k‖x‖², computed in op's spectral basis. k is the
// noise-to-signal power ratio σ_y²/σ_x² (k > 0; for a blur, spectral gains
// far below √k are damped rather than divided by).
func Wiener(op operator.Operator, y []float64, k float64) ([]float64, error) {
	if !(k > 0) || math.IsInf(k, 0) {
		return nil, fmt.Errorf("classical: Wiener noise-to-signal ratio %v, need a finite value > 0", k)
	}
	if len(y) != op.Out() {
		return nil, fmt.Errorf("classical: measurement has %d values, operator expects %d", len(y), op.Out())
	}
	z := make([]float64, op.Out())
	op.Gain(z, y, operator.NoisyGain(1, k))
	x := make([]float64, op.In())
	op.Adjoint(x, z)
	return x, nil
}

// WienerRatio returns the noise-to-signal ratio k Wiener uses for a
// measurement with noise sigmaY: σ_y²/σ_x² with σ_x = SignalStd, floored
// at the 8-bit rounding a saved photo carries.
func WienerRatio(sigmaY float64) float64 {
	s := math.Max(sigmaY, RoundingStd)
	return s * s / (SignalStd * SignalStd)
}

// RoundingStd is the standard deviation of rounding to 8 bits, in the
// [−1, 1] units of the images: a step of 2/255, uniformly distributed.
var RoundingStd = 2 / 255.0 / math.Sqrt(12)

// SignalStd is the signal standard deviation of Wiener's white prior, in
// [−1, 1] units. A white prior stands in for the photo's falling spectrum,
// so it is not the pixels' spread (about 0.5) but the value that restores
// best, measured on validation photos 101–104 (192×192 crops, 8-bit
// observations): 0.1–0.2 is best at σ_y = 0, 0.01 and 0.02 alike (0.15:
// 29.28, 27.92, 27.05 dB; 0.5: 28.08, 25.74, 24.92 dB).
const SignalStd = 0.15
