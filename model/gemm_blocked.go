package model

// sgemmBlocked sets c += a·b like sgemmAcc, in plain Go: the browser's
// path where the WebAssembly SIMD kernel is missing, and that kernel's
// twin. It computes every element as the kernel does — starting from c,
// each product rounded to float32 and added in order of p — so the two
// agree bit for bit; the float32 conversions stop the compiler from fusing
// a multiply and an add where the CPU has FMA. Blocks of 4×4 elements of c
// stay in locals through the loop over p, with the bounds checks hoisted
// out of it.
func sgemmBlocked(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	m4, n4 := m/4*4, n/4*4
	for j := 0; j < n4; j += 4 {
		for i := 0; i < m4; i += 4 {
			block4x4(k, a[i*lda:], lda, b[j:], ldb, c[i*ldc+j:], ldc)
		}
		for i := m4; i < m; i++ {
			block1x4(a[i*lda:i*lda+k], b[j:], ldb, c[i*ldc+j:i*ldc+j+4])
		}
	}
	for i := range m {
		ai := a[i*lda : i*lda+k]
		for j := n4; j < n; j++ {
			s := c[i*ldc+j]
			for p, x := range ai {
				s += float32(x * b[p*ldb+j])
			}
			c[i*ldc+j] = s
		}
	}
}

// block4x4 sets c[0:4, 0:4] += a[0:4, 0:k]·b[0:k, 0:4].
func block4x4(k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	a0, a1, a2, a3 := a[:k], a[lda:][:k], a[2*lda:][:k], a[3*lda:][:k]
	r0, r1, r2, r3 := c[:4:4], c[ldc:][:4:4], c[2*ldc:][:4:4], c[3*ldc:][:4:4]
	c00, c01, c02, c03 := r0[0], r0[1], r0[2], r0[3]
	c10, c11, c12, c13 := r1[0], r1[1], r1[2], r1[3]
	c20, c21, c22, c23 := r2[0], r2[1], r2[2], r2[3]
	c30, c31, c32, c33 := r3[0], r3[1], r3[2], r3[3]
	for p, x0 := range a0 {
		x1, x2, x3 := a1[p], a2[p], a3[p]
		bp := b[p*ldb:][:4:4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += float32(x0 * b0)
		c01 += float32(x0 * b1)
		c02 += float32(x0 * b2)
		c03 += float32(x0 * b3)
		c10 += float32(x1 * b0)
		c11 += float32(x1 * b1)
		c12 += float32(x1 * b2)
		c13 += float32(x1 * b3)
		c20 += float32(x2 * b0)
		c21 += float32(x2 * b1)
		c22 += float32(x2 * b2)
		c23 += float32(x2 * b3)
		c30 += float32(x3 * b0)
		c31 += float32(x3 * b1)
		c32 += float32(x3 * b2)
		c33 += float32(x3 * b3)
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
	r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
}

// block1x4 sets c[0:4] += a[0:k]·b[0:k, 0:4], for the rows below the last
// 4-row block.
func block1x4(a, b []float32, ldb int, c []float32) {
	c = c[:4:4]
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	for p, x := range a {
		bp := b[p*ldb:][:4:4]
		c0 += float32(x * bp[0])
		c1 += float32(x * bp[1])
		c2 += float32(x * bp[2])
		c3 += float32(x * bp[3])
	}
	c[0], c[1], c[2], c[3] = c0, c1, c2, c3
}
