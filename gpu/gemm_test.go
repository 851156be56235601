package gpu

import (
	"fmt"
	"testing"
	"time"
)

func TestGemm(t *testing.T) {
	b := testBackend(t, nil)
	var cases []kcase
	for _, g := range []struct{ m, n, k int }{{4, 4, 4}, {8, 12, 16}, {68, 4, 36}} {
		cases = append(cases, kcase{
			name: fmt.Sprintf("gemm_fwd/m=%d,n=%d,k=%d", g.m, g.n, g.k), ins: []int{g.m * g.k, g.k * g.n}, out: g.m * g.n, alias: -1, tol: 1e-5,
			gpu: func(b *Backend, dst *Buffer, in []*Buffer) { must(b.d.gemm(dst, in[0], in[1], g.m, g.n, g.k)) },
			ref: func(dst []float64, in [][]float64) {
				for i := range g.m {
					for j := range g.n {
						var s float64
						for l := range g.k {
							s += in[0][i*g.k+l] * in[1][l*g.n+j]
						}
						dst[i*g.n+j] = s
					}
				}
			},
		})
	}
	run(t, b, cases)
}

func TestMatmulRate(t *testing.T) {
	r, err := testDevice(t).MatmulRate(64, 2, time.Millisecond)
	if err != nil || !(r > 0) {
		t.Fatalf("MatmulRate = %v, %v", r, err)
	}
	t.Logf("64³ matmul: %.2f GFLOP/s", r/1e9)
}
