package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// gemmShapes hit the 4×16 and 2×16 register blocks, their row and column
// tails (panels of 12, 8 and 4 columns, single columns), padded leading
// dimensions and k = 1.
var gemmShapes = []struct{ m, n, k, pad int }{
	{4, 16, 1, 0}, {4, 16, 9, 0}, {64, 256, 288, 0}, {3, 4096, 27, 0},
	{27, 64, 32, 0}, {7, 37, 13, 3}, {33, 50, 70, 5}, {192, 64, 64, 0},
	{1, 31, 5, 1}, {5, 3, 17, 2},
}

// gemms are the products TestSgemmAcc checks: sgemmAcc, whatever this
// platform runs, and the plain-Go sgemmBlocked the browser falls back to.
var gemms = map[string]func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int){
	"sgemmAcc": sgemmAcc, "sgemmBlocked": sgemmBlocked,
}

// TestSgemmAcc checks c += a·b against a float64 product on gemmShapes, on
// fresh random inputs and a non-zero c.
func TestSgemmAcc(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(rand.Int64()), 7))
	for name, gemm := range gemms {
		for _, sz := range gemmShapes {
			t.Run(fmt.Sprintf("%s/m=%d,n=%d,k=%d,pad=%d", name, sz.m, sz.n, sz.k, sz.pad), func(t *testing.T) {
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
				gemm(sz.m, sz.n, sz.k, a, lda, b, ldb, c, ldc)
				for i, w := range want {
					// float32 accumulation of k products of N(0,1) terms.
					if tol := 1e-5 * (1 + math.Sqrt(float64(sz.k))*4); math.Abs(float64(c[i])-w) > tol {
						t.Fatalf("c[%d] = %v, want %v", i, c[i], w)
					}
				}
			})
		}
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

// BenchmarkSgemm times the convolutions' products at the photo model's
// shapes (64×64 tiles; a conv3x3 and its VJP) through each implementation
// this platform has: gonum's Sgemm, the plain-Go sgemmBlocked, and
// sgemmAcc (the AVX2 kernel on amd64, the SIMD128 kernel under GOOS=js when
// loaded). `make bench-gemm-wasm` runs it natively and in Chromium.
func BenchmarkSgemm(b *testing.B) {
	impls := map[string]func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int){
		"gonum": sgemmGonum, "blocked": sgemmBlocked, "sgemmAcc": sgemmAcc,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sz := range []struct {
		name    string
		m, n, k int
	}{
		{"conv64x64c32", 32, 4096, 288}, {"conv32x32c64", 64, 1024, 576},
		{"conv16x16c64", 64, 256, 576}, {"vjp64x64c32", 288, 4096, 32},
	} {
		a, x := randn(rng, sz.m*sz.k, 1), randn(rng, sz.k*sz.n, 1)
		c := make([]float32, sz.m*sz.n)
		for _, name := range []string{"gonum", "blocked", "sgemmAcc"} {
			gemm := impls[name]
			b.Run(sz.name+"/"+name, func(b *testing.B) {
				for b.Loop() {
					gemm(sz.m, sz.n, sz.k, a, sz.k, x, sz.n, c, sz.n)
				}
				b.ReportMetric(2*float64(sz.m*sz.n*sz.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
