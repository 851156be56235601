// Package operator implements the linear degradations H that Conjure inverts:
// inpainting, box-average and bicubic super-resolution, separable deblurring,
// colourisation, and dense matrices for toy problems.
//
// Every degradation satisfies the Operator interface: H, Hᵀ, the
// Moore–Penrose pseudo-inverse H†, its adjoint H†ᵀ, the orthogonal projector
// P = H†H onto the row space of H, and the spectral noisy inverse
// (r²HHᵀ + σ_y²I)⁻¹ used by noisy samplers (ALGORITHM.md §I.3, §4).
//
// # Layout
//
// Images are planar float64 vectors of length C·H·W: element (c, i, j) sits
// at offset c·H·W + i·W + j. Measurements use the same planar layout with
// their own shape (for inpainting, the kept entries in that order).
//
// # Invariants
//
// Constructors validate their parameters and return an error naming the
// problem; a constructed Operator never fails. Methods only write dst; dst
// must not overlap the source and must have the length the method documents,
// otherwise the method panics (a programmer error, as in gonum).
// Every operator obeys ⟨Hx, y⟩ = ⟨x, Hᵀy⟩, HH†H = H, P² = P, Pᵀ = P and
// H†y ∈ range(P); the tests check these laws on random inputs.
package operator
