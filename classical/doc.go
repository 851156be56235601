// Package classical holds the restorations a person would use instead of
// Conjure — a harmonic fill of holes, Wiener deconvolution, non-local means
// denoising — written from their definitions. They are the baselines every
// evaluation table shows, and the fill and the Wiener solution are also the
// starting estimates the samplers begin from (restore.StartFor).
package classical
