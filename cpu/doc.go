// Package cpu is the reference implementation of sampler.Backend: vectors are
// []float64 in main memory, operators are applied by package operator, and
// the network role is any Network (the trained model on the CPU, or an exact
// Gaussian denoiser in tests).
//
// # Invariants
//
// Vectors are planar float64 (offset c·H·W + i·W + j for images). Every
// computation is done in float64, so the backend reproduces ALGORITHM.md's
// float64 test vectors; only the Network may work in lower precision.
// A Backend is not safe for concurrent use: Eps stores what VJP needs.
package cpu
