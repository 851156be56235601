//go:build js

package model

import (
	"runtime"
	"sync"
	"syscall/js"
	"unsafe"

	"conjure/model/wasmgemm"
)

// KernelGlobal is the global through which the page hands the Go code the
// WebAssembly SIMD128 GEMM kernel of model/wasmgemm: the kernel module's
// exported sgemm, instantiated with this Go instance's memory as its
// import (wasmgemm.MemModule, wasmgemm.MemName), set before go.run. Where
// it is missing — a browser without SIMD128, a harness that does not load
// the kernel — sgemmAcc runs sgemmBlocked instead, with the same results.
const KernelGlobal = "conjureSgemm"

// kernel is the kernel's sgemm, looked up once; kernelFound reports
// whether the page set it.
var (
	kernelOnce  sync.Once
	kernel      js.Value
	kernelFound bool
)

// simdKernel returns the page's kernel and whether there is one.
func simdKernel() (js.Value, bool) {
	kernelOnce.Do(func() {
		kernel = js.Global().Get(KernelGlobal)
		kernelFound = kernel.Type() == js.TypeFunction
	})
	return kernel, kernelFound
}

// sgemmArch is sgemmAcc in the browser: one call of the SIMD kernel for
// the whole product (a syscall/js call costs microseconds, a convolution's
// product milliseconds), else sgemmBlocked.
func sgemmArch(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	f, ok := simdKernel()
	if !ok {
		sgemmBlocked(m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	sgemmKernel(f, m, n, k, a, lda, b, ldb, c, ldc)
}

// sgemmKernel runs the kernel f on the product; sgemmAcc has checked that
// every element it touches lies inside its slice. Go's pointers are
// addresses in the linear memory the kernel imports, and Go's collector
// does not move objects; KeepAlive holds the slices until the kernel has
// returned.
func sgemmKernel(f js.Value, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ws := scratch(k * wasmgemm.PanelWidth)
	f.Invoke(m, n, k, addr(a), lda, addr(b), ldb, addr(c), ldc, addr(*ws))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
	colPool.Put(ws)
}

// addr is the address of s[0] in the module's linear memory.
func addr(s []float32) int { return int(uintptr(unsafe.Pointer(&s[0]))) }
