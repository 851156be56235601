// Package sampler implements the diffusion samplers Conjure restores images
// with — C-ΠGDM (the conditional conjugate integrator of Pandey, Yang & Mandt,
// NeurIPS 2024), continuous ΠGDM, DDIM, DDNM and DPS — written once against
// the small Backend interface, so the same code runs on the CPU and the GPU.
//
// The specification is ALGORITHM.md (Part I decides; Part II is the
// reference). Scalars — the VP schedule, the time grid, every step's
// coefficients — are computed here in float64 before the loop; vectors live
// on the Backend and are only combined, projected and fed to the network.
//
// # Invariants
//
// Diffusion time τ ∈ (0, 1]; a grid descends strictly from τ₀ to τ_N > 0.
// Images are planar (C, H, W) vectors in [−1, 1] (offset c·H·W + i·W + j);
// the samplers never clip. A sampler writes only its x argument and the
// scratch vectors it allocates; it never retains the caller's slices.
// Given the same backend, problem, options and initial noise, a sampler is
// deterministic.
package sampler
