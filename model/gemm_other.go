//go:build !amd64

package model

// haveFMA is false off amd64: sgemmAcc uses gonum's Sgemm.
const haveFMA = false

// sgemmKernel4x16 is never called off amd64 (haveFMA is false).
func sgemmKernel4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int) {
	panic("model: sgemmKernel4x16 without amd64")
}
