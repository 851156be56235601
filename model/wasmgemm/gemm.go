package wasmgemm

import (
	"fmt"
	"strings"
)

// Import and export names: the module's contract with its loader.
const (
	// MemModule and MemName name the imported memory: the Go instance's
	// exported "mem", so that Go pointers are addresses in it.
	MemModule = "go"
	MemName   = "mem"
	// Export is the name of the exported GEMM function.
	Export = "sgemm"
)

// PanelWidth is the width of the column panels of b the kernel packs: its
// last argument, ws, must point to PanelWidth·k floats it may overwrite.
const PanelWidth = 4 * Vecs

// Rows and Vecs are the register block: Rows rows of c by Vecs 4-lane
// vectors (4·Vecs columns), held in Rows·Vecs v128 locals. x86-64 has 16
// vector registers; Rows·Vecs accumulators + Vecs b vectors + 1 splat
// of a must fit in them, or V8 spills inside the inner loop.
const (
	Rows = 2
	Vecs = 4
)

// program is the kernel's functions, the exported driver first.
type program struct {
	funcs  []*fn
	panels map[[2]int]uint32 // (rows, vecs) → function index
	dot    uint32
}

// newProgram writes the kernel with a rows×vecs register block.
func newProgram(rows, vecs int) *program {
	p := &program{panels: map[[2]int]uint32{}}
	p.funcs = append(p.funcs, nil) // the driver, written last
	for r := 1; r <= rows; r++ {
		for v := 1; v <= vecs; v++ {
			p.panels[[2]int{r, v}] = uint32(len(p.funcs))
			p.funcs = append(p.funcs, panel(r, v))
		}
	}
	p.dot = uint32(len(p.funcs))
	p.funcs = append(p.funcs, dot())
	p.funcs[0] = p.driver(rows, vecs)
	return p
}

// Module returns the kernel's WebAssembly module. It imports one memory,
// (MemModule, MemName), and exports one function, Export:
//
//	sgemm(m, n, k, a, lda, b, ldb, c, ldc, ws i32)
//
// which sets c += a·b for row-major float32 matrices a (m×k), b (k×n) and
// c (m×n) at byte addresses a, b, c of the memory, with leading dimensions
// lda, ldb, ldc in elements, using PanelWidth·k floats at ws as workspace:
// each panel of b's columns is copied there first, so that the loop over k
// reads it contiguously rather than a row of b every ldb floats (rows
// 4096 floats apart share a set of the L1 cache and evict each other). It returns at once when m, n or k is not
// positive. Every element of c is computed the same way wherever it lies
// in the blocking: starting from c, the products a[i,p]·b[p,j] are rounded
// and added in order of p, one rounding each (no fused multiply-add), so
// the result does not depend on the blocking, on how a caller splits the
// product, or on the machine. It needs WebAssembly SIMD128 (Chrome 91,
// Firefox 89, Safari 16.4, Node 16.4).
func Module() []byte {
	p := newProgram(Rows, Vecs)
	return module(MemModule, MemName, p.funcs, Export)
}

// Listing returns the kernel as a text listing in the WebAssembly text
// format's instruction syntax, with comments: what Module encodes.
func Listing() string {
	p := newProgram(Rows, Vecs)
	var b strings.Builder
	fmt.Fprintf(&b, ";; %s: SIMD128 GEMM, %d×%d register block\n", Export, Rows, 4*Vecs)
	fmt.Fprintf(&b, "(import %q %q (memory 0))\n", MemModule, MemName)
	fmt.Fprintf(&b, "(export %q (func $%s))\n", Export, p.funcs[0].name)
	for _, f := range p.funcs {
		b.WriteString(f.header() + "\n")
		b.WriteString(f.listing.String())
		b.WriteString(")\n")
	}
	return b.String()
}

// panel writes panel_RxW(k, a, lda4, b, c, ldc4), which sets
// c[0:r, 0:4v] += a[0:r, 0:k]·b[0:k, 0:4v] for a packed b (rows of 4v
// floats, one after the other); lda4 and ldc4 are in bytes and k > 0. The
// block of c stays in r·v v128 locals through the loop over p; each step
// loads v vectors of b's row p and, for each row i of a, splats a[i, p]
// and adds its products with them. (Unrolling the loop over p measured
// slower in V8: the b vectors of two steps no longer fit the registers.)
func panel(r, v int) *fn {
	f, ps := newFn(fmt.Sprintf("panel_%dx%d", r, 4*v), "k", "a", "lda4", "b", "c", "ldc4")
	k, a, lda4, b, c, ldc4 := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5]
	acc := make([][]local, r)
	for i := range acc {
		acc[i] = make([]local, v)
		for j := range acc[i] {
			acc[i][j] = f.local(v128, fmt.Sprintf("c%d%d", i, j))
		}
	}
	bv := make([]local, v)
	for j := range bv {
		bv[j] = f.local(v128, fmt.Sprintf("b%d", j))
	}
	as := f.local(v128, "as")
	ar := make([]local, r)
	ar[0] = a
	for i := 1; i < r; i++ {
		ar[i] = f.local(i32, fmt.Sprintf("a%d", i))
	}
	end, row := f.local(i32, "aend"), f.local(i32, "crow")

	f.note("row pointers of a, and where row 0 ends")
	for i := 1; i < r; i++ {
		f.get(ar[i-1], "")
		f.get(lda4, "")
		f.i32Add("")
		f.set(ar[i], fmt.Sprintf("a + %d·lda", i))
	}
	f.addr4(end, a, k, "a + 4k")
	// loadStore moves the block of c between memory and the locals.
	loadStore := func(store bool) {
		f.get(c, "")
		f.set(row, "")
		for i := range r {
			for j := range v {
				f.get(row, "")
				if store {
					f.get(acc[i][j], "")
					f.v128Store(uint32(16*j), fmt.Sprintf("c[%d, %d:%d]", i, 4*j, 4*j+4))
				} else {
					f.v128Load(uint32(16*j), fmt.Sprintf("c[%d, %d:%d]", i, 4*j, 4*j+4))
					f.set(acc[i][j], "")
				}
			}
			if i < r-1 {
				f.incr(row, ldc4, "next row of c")
			}
		}
	}
	f.note("the block of c into registers")
	loadStore(false)
	f.loop("over p = 0 … k−1")
	for j := range v {
		f.get(b, "")
		f.v128Load(uint32(16*j), fmt.Sprintf("b[p, %d:%d]", 4*j, 4*j+4))
		f.set(bv[j], "")
	}
	for i := range r {
		f.get(ar[i], "")
		f.v128Load32Splat(0, "")
		f.set(as, fmt.Sprintf("a[%d, p] in every lane", i))
		for j := range v {
			f.get(acc[i][j], "")
			f.get(as, "")
			f.get(bv[j], "")
			f.f32x4Mul("")
			f.f32x4Add("")
			f.set(acc[i][j], fmt.Sprintf("c[%d, %d:%d] += a[%d, p]·b[p, %d:%d]", i, 4*j, 4*j+4, i, 4*j, 4*j+4))
		}
	}
	f.incrConst(b, int32(16*v), "next packed row of b")
	for i := r - 1; i >= 0; i-- {
		f.get(ar[i], "")
		f.i32Const(4, "")
		f.i32Add("")
		if i == 0 {
			f.tee(ar[i], "next column of a")
		} else {
			f.set(ar[i], "")
		}
	}
	f.get(end, "")
	f.i32LtS("")
	f.brIf(0, "while p < k")
	f.end("")
	f.note("the block back to c")
	loadStore(true)
	return f
}

// dot writes dot(k, a, b, ldb4, c), which sets c[0] += a[0:k]·b[0:k, 0]
// with scalar float32 operations, in the panels' order: the column tail.
func dot() *fn {
	f, ps := newFn("dot", "k", "a", "b", "ldb4", "c")
	k, a, b, ldb4, c := ps[0], ps[1], ps[2], ps[3], ps[4]
	acc, end := f.local(f32, "acc"), f.local(i32, "aend")
	f.addr4(end, a, k, "a + 4k")
	f.get(c, "")
	f.f32Load(0, "")
	f.set(acc, "c[0]")
	f.loop("over p")
	f.get(acc, "")
	f.get(a, "")
	f.f32Load(0, "a[p]")
	f.get(b, "")
	f.f32Load(0, "b[p, 0]")
	f.f32Mul("")
	f.f32Add("")
	f.set(acc, "acc += a[p]·b[p, 0]")
	f.incr(b, ldb4, "")
	f.get(a, "")
	f.i32Const(4, "")
	f.i32Add("")
	f.tee(a, "")
	f.get(end, "")
	f.i32LtS("")
	f.brIf(0, "while p < k")
	f.end("")
	f.get(c, "")
	f.get(acc, "")
	f.f32Store(0, "")
	return f
}

// driver writes the exported sgemm: column panels of 4·vecs columns, then
// narrower panels and single columns for the rest of n; within a panel,
// blocks of rows rows, then one block of the m mod rows rows left.
func (p *program) driver(rows, vecs int) *fn {
	f, ps := newFn("sgemm", "m", "n", "k", "a", "lda", "b", "ldb", "c", "ldc", "ws")
	m, n, k, a, lda, b, ldb, c, ldc, ws := ps[0], ps[1], ps[2], ps[3], ps[4], ps[5], ps[6], ps[7], ps[8], ps[9]
	j, i := f.local(i32, "j"), f.local(i32, "i")
	ap, bp, cp := f.local(i32, "ap"), f.local(i32, "bp"), f.local(i32, "cp")
	aStep, cStep := f.local(i32, "astep"), f.local(i32, "cstep")
	src, dst := f.local(i32, "src"), f.local(i32, "dst")

	f.note("nothing to do unless m, n, k > 0")
	for _, x := range []local{m, n, k} {
		f.get(x, "")
		f.i32Const(0, "")
		f.i32LeS("")
		f.if_("")
		f.ret("")
		f.end("")
	}
	f.note("leading dimensions in bytes")
	for _, x := range []local{lda, ldb, ldc} {
		f.get(x, "")
		f.i32Const(2, "")
		f.i32Shl("")
		f.set(x, "")
	}
	for _, x := range [][2]local{{lda, aStep}, {ldc, cStep}} {
		f.get(x[0], "")
		f.i32Const(int32(rows), "")
		f.i32Mul("")
		f.set(x[1], fmt.Sprintf("%d rows", rows))
	}
	// start sets ap, bp, cp to row 0 of a and to column j of b and c.
	start := func() {
		f.get(a, "")
		f.set(ap, "")
		f.addr4(bp, b, j, "column j of b")
		f.addr4(cp, c, j, "column j of c")
		f.get(m, "")
		f.set(i, "rows left")
	}
	call := func(callee uint32, v int) {
		f.get(k, "")
		f.get(ap, "")
		f.get(lda, "")
		f.get(ws, "packed panel of b")
		f.get(cp, "")
		f.get(ldc, "")
		f.call(p.funcs[callee], callee, "")
	}
	pack := func(v int) {
		f.get(bp, "")
		f.set(src, "")
		f.get(ws, "")
		f.set(dst, "")
		f.get(k, "")
		f.set(i, "")
		f.loop("pack b[0:k, j:j+w] into ws")
		for vi := range v {
			f.get(dst, "")
			f.get(src, "")
			f.v128Load(uint32(16*vi), "")
			f.v128Store(uint32(16*vi), "")
		}
		f.incr(src, ldb, "")
		f.incrConst(dst, int32(16*v), "")
		f.get(i, "")
		f.i32Const(1, "")
		f.i32Sub("")
		f.tee(i, "")
		f.brIf(0, "")
		f.end("")
	}
	for v := vecs; v >= 1; v-- {
		w := int32(4 * v)
		f.block("")
		f.loop(fmt.Sprintf("panels of %d columns", w))
		f.get(j, "")
		f.i32Const(w, "")
		f.i32Add("")
		f.get(n, "")
		f.i32LeS("")
		f.i32Eqz("")
		f.brIf(1, fmt.Sprintf("until j + %d > n", w))
		start()
		pack(v)
		f.get(m, "")
		f.set(i, "")
		f.block("")
		f.loop(fmt.Sprintf("blocks of %d rows", rows))
		f.get(i, "")
		f.i32Const(int32(rows), "")
		f.i32LtS("")
		f.brIf(1, fmt.Sprintf("until fewer than %d rows are left", rows))
		call(p.panels[[2]int{rows, v}], v)
		for _, x := range [][3]local{{ap, aStep}, {cp, cStep}} {
			f.incr(x[0], x[1], "")
		}
		f.incrConst(i, -int32(rows), "")
		f.br(0, "")
		f.end("")
		f.end("")
		for r := 1; r < rows; r++ {
			f.get(i, "")
			f.i32Const(int32(r), "")
			f.i32Eq("")
			f.if_(fmt.Sprintf("%d rows left", r))
			call(p.panels[[2]int{r, v}], v)
			f.end("")
		}
		f.incrConst(j, w, "")
		f.br(0, "")
		f.end("")
		f.end("")
	}
	f.block("")
	f.loop("single columns")
	f.get(j, "")
	f.get(n, "")
	f.i32LtS("")
	f.i32Eqz("")
	f.brIf(1, "until j = n")
	start()
	f.loop("every row")
	f.get(k, "")
	f.get(ap, "")
	f.get(bp, "")
	f.get(ldb, "")
	f.get(cp, "")
	f.call(p.funcs[p.dot], p.dot, "")
	for _, x := range [][2]local{{ap, lda}, {cp, ldc}} {
		f.incr(x[0], x[1], "next row")
	}
	f.get(i, "")
	f.i32Const(1, "")
	f.i32Sub("")
	f.tee(i, "")
	f.brIf(0, "while rows are left")
	f.end("")
	f.incrConst(j, 1, "")
	f.br(0, "")
	f.end("")
	f.end("")
	return f
}
