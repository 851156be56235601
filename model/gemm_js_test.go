//go:build js

package model

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// TestSIMDKernelLoaded fails when the harness did not hand the binary the
// SIMD kernel, so that the browser's fast path cannot go untested by
// accident; CONJURE_WASM_KERNEL=none (site/test/wasm/exec.sh) asks for the
// fallback on purpose.
func TestSIMDKernelLoaded(t *testing.T) {
	_, ok := simdKernel()
	if want := os.Getenv("CONJURE_WASM_KERNEL") != "none"; ok != want {
		t.Fatalf("SIMD kernel loaded: %v, want %v (run under site/test/wasm/exec.sh)", ok, want)
	}
}

// TestSIMDKernelMatchesBlocked checks that the SIMD kernel and sgemmBlocked,
// its fallback, agree bit for bit on gemmShapes, so a browser without
// SIMD128 restores the same image.
func TestSIMDKernelMatchesBlocked(t *testing.T) {
	f, ok := simdKernel()
	if !ok {
		t.Skip("no SIMD kernel: TestSIMDKernelLoaded says whether that is wanted")
	}
	rng := rand.New(rand.NewPCG(uint64(rand.Int64()), 9))
	for _, sz := range gemmShapes {
		t.Run(fmt.Sprintf("m=%d,n=%d,k=%d,pad=%d", sz.m, sz.n, sz.k, sz.pad), func(t *testing.T) {
			lda, ldb, ldc := sz.k+sz.pad, sz.n+sz.pad, sz.n+2*sz.pad
			a, b := randn(rng, sz.m*lda, 1), randn(rng, sz.k*ldb, 1)
			c := randn(rng, sz.m*ldc, 1)
			want := append([]float32(nil), c...)
			sgemmKernel(f, sz.m, sz.n, sz.k, a, lda, b, ldb, c, ldc)
			sgemmBlocked(sz.m, sz.n, sz.k, a, lda, b, ldb, want, ldc)
			for i := range c {
				if c[i] != want[i] {
					t.Fatalf("c[%d] = %v, sgemmBlocked %v", i, c[i], want[i])
				}
			}
		})
	}
}
