package model

import "gonum.org/v1/gonum/blas"

// sgemmAcc sets c += a·b for row-major a (m, k), b (k, n) and c (m, n) with
// leading dimensions lda, ldb, ldc. On amd64 with AVX2 and FMA it runs a
// 4×16 register-blocked kernel (gemm_amd64.s), several times faster than
// gonum's SSE Sgemm on the convolutions here; elsewhere it is gonum's.
func sgemmAcc(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	if !haveFMA {
		blas32.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, lda, b, ldb, 1, c, ldc)
		return
	}
	// The bounds checks below make the assembly's unchecked reads and
	// writes safe: every row it touches lies inside its slice.
	_ = a[(m-1)*lda+k-1]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	m4, n16 := m/4*4, n/16*16
	// Column panels of 16 split over cores; each panel's k×16 slice of b
	// stays in cache while every 4-row block of a streams past it.
	parallelFor(n16/16, func(p int) {
		j := p * 16
		for i := 0; i < m4; i += 4 {
			sgemmKernel4x16(k, &a[i*lda], lda, &b[j], ldb, &c[i*ldc+j], ldc)
		}
	})
	if m4 < m {
		sgemmTail(m4, m, 0, n16, k, a, lda, b, ldb, c, ldc)
	}
	if n16 < n {
		sgemmTail(0, m, n16, n, k, a, lda, b, ldb, c, ldc)
	}
}

// sgemmTail is sgemmAcc's plain loop for the rows [i0, i1) and columns
// [j0, j1) the 4×16 kernel does not cover.
func sgemmTail(i0, i1, j0, j1, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := i0; i < i1; i++ {
		ci := c[i*ldc+j0 : i*ldc+j1]
		for p := range k {
			av := a[i*lda+p]
			bp := b[p*ldb+j0 : p*ldb+j1]
			for j := range ci {
				ci[j] += av * bp[j]
			}
		}
	}
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
