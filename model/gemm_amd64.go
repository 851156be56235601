package model

// sgemmArch is sgemmAcc on amd64: the 4×16 FMA kernel where the CPU has
// AVX2 and FMA, gonum's Sgemm where it has not.
func sgemmArch(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if !haveFMA {
		sgemmGonum(m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
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

// sgemmTail is sgemmArch's plain loop for the rows [i0, i1) and columns
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

// haveFMA reports whether this CPU and OS support AVX2 and FMA3, which
// sgemmKernel4x16 needs.
var haveFMA = detectFMA()

// detectFMA checks CPUID for FMA, AVX and OSXSAVE (leaf 1), AVX2 (leaf 7),
// and XGETBV for the OS saving the YMM state.
func detectFMA() bool {
	_, _, c1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	max, _, _, _ := cpuid(0, 0)
	if max < 7 {
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0
}

// cpuid executes CPUID with EAX = leaf, ECX = sub.
func cpuid(leaf, sub uint32) (a, b, c, d uint32)

// xgetbv returns XCR0.
func xgetbv() (lo, hi uint32)

// sgemmKernel4x16 sets c[0:4, 0:16] += a[0:4, 0:k]·b[0:k, 0:16] for
// row-major blocks with leading dimensions lda, ldb, ldc (in elements).
// The caller guarantees that every element it reads and writes exists.
//
//go:noescape
func sgemmKernel4x16(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)
