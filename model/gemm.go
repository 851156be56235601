package model

import "gonum.org/v1/gonum/blas"

// sgemmAcc sets c += a·b for row-major a (m, k), b (k, n) and c (m, n) with
// leading dimensions lda, ldb, ldc. Each platform's sgemmArch does the
// work: on amd64 with AVX2 and FMA a 4×16 register-blocked kernel
// (gemm_amd64.s), several times faster than gonum's SSE Sgemm on the
// convolutions here; in the browser (GOOS=js) the WebAssembly SIMD128
// kernel of model/wasmgemm when the page has loaded it, else
// sgemmBlocked; elsewhere gonum's Sgemm.
func sgemmAcc(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// The bounds checks below make the kernels' unchecked reads and writes
	// safe: every row they touch lies inside its slice.
	_ = a[(m-1)*lda+k-1]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	sgemmArch(m, n, k, a, lda, b, ldb, c, ldc)
}

// sgemmGonum is sgemmAcc through gonum's Sgemm.
func sgemmGonum(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	blas32.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
}

// sgemmAccT sets c += aᵀ·b for a (k, m), b (k, n) and c (m, n), all
// contiguous, by transposing a (a weight matrix, small) into scratch.
func sgemmAccT(m, n, k int, a, b, c []float32) {
	at := scratch(m * k)
	defer colPool.Put(at)
	transpose(*at, a, k, m)
	sgemmAcc(m, n, k, *at, k, b, n, c, n)
}

// transpose sets dst (c, r) to the transpose of src (r, c).
func transpose(dst, src []float32, r, c int) {
	for i := range r {
		for j, v := range src[i*c : (i+1)*c] {
			dst[j*r+i] = v
		}
	}
}
