//go:build !amd64 && !js

package model

// sgemmArch is sgemmAcc where Conjure has no kernel of its own: gonum's
// Sgemm (with gonum's assembly on arm64).
func sgemmArch(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	sgemmGonum(m, n, k, a, lda, b, ldb, c, ldc)
}
