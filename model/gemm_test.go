package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmAcc checks c += a·b against a float64 product on shapes that hit
// the 4×16 kernel, its row and column tails, padded leading dimensions and
// k = 1, on fresh random inputs and a non-zero c.
func TestSgemmAcc(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(rand.Int64()), 7))
	for _, sz := range []struct{ m, n, k, pad int }{
		{4, 16, 1, 0}, {4, 16, 9, 0}, {64, 256, 288, 0}, {3, 4096, 27, 0},
		{27, 64, 32, 0}, {7, 37, 13, 3}, {33, 50, 70, 5}, {192, 64, 64, 0},
	} {
		t.Run(fmt.Sprintf("m=%d,n=%d,k=%d,pad=%d", sz.m, sz.n, sz.k, sz.pad), func(t *testing.T) {
			lda, ldb, ldc := sz.k+sz.pad, sz.n+sz.pad, sz.n+2*sz.pad
			a := randn(rng, sz.m*lda, 1)
			b := randn(rng, sz.k*ldb, 1)
			c := randn(rng, sz.m*ldc, 1)
			want := make([]float64, len(c))
			for i := range sz.m {
				for j := range ldc {
					s := float64(c[i*ldc+j])
					if j < sz.n {
						for p := range sz.k {
							s += float64(a[i*lda+p]) * float64(b[p*ldb+j])
						}
					}
					want[i*ldc+j] = s
				}
			}
			sgemmAcc(sz.m, sz.n, sz.k, a, lda, b, ldb, c, ldc)
			for i, w := range want {
				// float32 accumulation of k products of N(0,1) terms.
				if tol := 1e-5 * (1 + math.Sqrt(float64(sz.k))*4); math.Abs(float64(c[i])-w) > tol {
					t.Fatalf("c[%d] = %v, want %v (haveFMA %v)", i, c[i], w, haveFMA)
				}
			}
		})
	}
}

// TestSgemmAccT checks c += aᵀ·b against a float64 product.
func TestSgemmAccT(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(rand.Int64()), 8))
	m, n, k := 21, 80, 19
	a, b, c := randn(rng, k*m, 1), randn(rng, k*n, 1), randn(rng, m*n, 1)
	want := to64(c)
	for i := range m {
		for j := range n {
			for p := range k {
				want[i*n+j] += float64(a[p*m+i]) * float64(b[p*n+j])
			}
		}
	}
	sgemmAccT(m, n, k, a, b, c)
	if e := relErr(to64(c), want); e > 1e-6 {
		t.Fatalf("relative error %g", e)
	}
}
