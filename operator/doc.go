// Package operator implements the linear degradations H that Conjure inverts:
// inpainting, box-average and bicubic super-resolution, separable deblurring,
// colourisation, and dense matrices for toy problems.
//
// Every degradation satisfies the Operator interface: H, Hᵀ, the
// Moore–Penrose pseudo-inverse H†, the orthogonal projector
// P = H†H onto the row space of H, and spectral gains g(HHᵀ) such as the
// noisy inverse (r²HHᵀ + σ_y²I)⁻¹ used by noisy samplers (ALGORITHM.md
// §I.3, §4).
//
// # Layout
//
// Images are planar float64 vectors of length C·H·W: element (c, i, j) sits
// at offset c·H·W + i·W + j. Measurements use the same planar layout with
// their own shape (for inpainting, the kept entries in that order).
//
// # Operators
//
// NewInpaint, NewBoxSR and NewGray build operators whose measurements are
// means of disjoint groups of image entries, so HHᵀ is a multiple of I and
// every map has a closed form (their Groups method gives the table a GPU
// needs). NewBicubicSR and NewBlur build separable operators, Y_c = A_h X_c
// A_wᵀ per channel, whose pseudo-inverse, projector and gains come
// from the SVDs of the small 1-D matrices (their Factors and Spectrum
// methods give those matrices). NewDense takes any matrix.
//
// Constructors accept images of at most MaxElements entries, and the
// SVD-based operators sides of at most MaxSide: beyond, they return an error
// rather than allocate.
//
// # Invariants
//
// Constructors validate their parameters and return an error naming the
// problem; a constructed Operator never fails. Methods only write dst; dst
// must not overlap the source and must have the length the method documents,
// otherwise the method panics (a programmer error, as in gonum).
// Every operator obeys ⟨Hx, y⟩ = ⟨x, Hᵀy⟩, HH†H = H, P² = P, Pᵀ = P and
// H†y ∈ range(P); the tests check these laws on random inputs. Operators
// are immutable once built, so one may serve concurrent calls.
package operator
