package cpu

// Network is the network role ε_θ on the CPU: the trained model (package
// model) or an exact denoiser for tests (package sampler/gaussian).
//
// Implementations must not retain dst, x or v.
type Network interface {
	// Dim returns the length of x.
	Dim() int
	// Eps sets dst = ε(x, τ) and keeps what VJP needs.
	Eps(dst, x []float64, tau float64)
	// VJP sets dst = J_εᵀ v at the x and τ of the latest Eps call.
	VJP(dst, v []float64)
}
