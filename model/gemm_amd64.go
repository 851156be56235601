package model

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
