package wasmgemm

import (
	"fmt"
	"strings"
)

// This file is a tiny WebAssembly assembler: just the opcodes the kernel
// uses, each method appending its binary encoding to a function body and
// one line to a listing, so the program in gemm.go reads as assembly. The
// encodings are from the WebAssembly core specification 2.0 (§5.4,
// "Instructions"; SIMD opcodes carry the 0xFD prefix and a LEB128 index).

// Value types (§5.3.1).
const (
	i32  byte = 0x7f
	f32  byte = 0x7d
	v128 byte = 0x7b
)

// typeName is the listing's name of a value type.
var typeName = map[byte]string{i32: "i32", f32: "f32", v128: "v128"}

// local is a parameter or local variable of the function being written.
type local struct {
	idx  uint32
	name string
}

// fn is one function being assembled: its signature, locals, body and
// listing.
type fn struct {
	name    string
	params  []byte // value types of the parameters
	locals  []byte // value types of the declared locals, after the params
	names   []string
	body    []byte
	listing strings.Builder
	depth   int // nesting of block/loop/if, for the listing's indentation
}

// newFn starts a function with the named i32 parameters.
func newFn(name string, params ...string) (*fn, []local) {
	f := &fn{name: name}
	ls := make([]local, len(params))
	for i, p := range params {
		ls[i] = f.add(i32, p)
		f.params = append(f.params, i32)
	}
	return f, ls
}

// add names the next variable of type t; newFn adds the parameters, local
// the rest.
func (f *fn) add(t byte, name string) local {
	f.names = append(f.names, name)
	return local{idx: uint32(len(f.names) - 1), name: name}
}

// local declares a local variable of type t.
func (f *fn) local(t byte, name string) local {
	f.locals = append(f.locals, t)
	return f.add(t, name)
}

// emit appends the encoding of one instruction and its listing line:
// mnemonic and operands, then the comment if any.
func (f *fn) emit(enc []byte, text, comment string) {
	f.body = append(f.body, enc...)
	line := strings.Repeat("  ", f.depth+1) + text
	if comment != "" {
		line = fmt.Sprintf("%-44s ;; %s", line, comment)
	}
	f.listing.WriteString(line + "\n")
}

// note adds a comment line to the listing and nothing to the body.
func (f *fn) note(text string) {
	f.listing.WriteString(strings.Repeat("  ", f.depth+1) + ";; " + text + "\n")
}

// simd encodes a SIMD instruction: the 0xFD prefix and its opcode.
func simd(op uint32) []byte { return append([]byte{0xfd}, uleb(op)...) }

// memarg encodes a load or store's alignment (log2 bytes, a hint) and
// constant byte offset.
func memarg(align, offset uint32) []byte { return append(uleb(align), uleb(offset)...) }

// Variables.

func (f *fn) get(l local, c string) {
	f.emit(append([]byte{0x20}, uleb(l.idx)...), "local.get $"+l.name, c)
}
func (f *fn) set(l local, c string) {
	f.emit(append([]byte{0x21}, uleb(l.idx)...), "local.set $"+l.name, c)
}
func (f *fn) tee(l local, c string) {
	f.emit(append([]byte{0x22}, uleb(l.idx)...), "local.tee $"+l.name, c)
}

// Integer arithmetic and comparisons.

func (f *fn) i32Const(v int32, c string) {
	f.emit(append([]byte{0x41}, sleb(int64(v))...), fmt.Sprintf("i32.const %d", v), c)
}
func (f *fn) i32Eqz(c string) { f.emit([]byte{0x45}, "i32.eqz", c) }
func (f *fn) i32Eq(c string)  { f.emit([]byte{0x46}, "i32.eq", c) }
func (f *fn) i32LeS(c string) { f.emit([]byte{0x4c}, "i32.le_s", c) }
func (f *fn) i32LtS(c string) { f.emit([]byte{0x48}, "i32.lt_s", c) }
func (f *fn) i32Add(c string) { f.emit([]byte{0x6a}, "i32.add", c) }
func (f *fn) i32Sub(c string) { f.emit([]byte{0x6b}, "i32.sub", c) }
func (f *fn) i32Mul(c string) { f.emit([]byte{0x6c}, "i32.mul", c) }
func (f *fn) i32Shl(c string) { f.emit([]byte{0x74}, "i32.shl", c) }

// Control flow. Blocks have the empty block type (0x40): no parameters or
// results. Branch depths count enclosing blocks outwards from 0.

func (f *fn) block(c string) { f.emit([]byte{0x02, 0x40}, "block", c); f.depth++ }
func (f *fn) loop(c string)  { f.emit([]byte{0x03, 0x40}, "loop", c); f.depth++ }
func (f *fn) if_(c string)   { f.emit([]byte{0x04, 0x40}, "if", c); f.depth++ }
func (f *fn) end(c string)   { f.depth--; f.emit([]byte{0x0b}, "end", c) }
func (f *fn) br(depth uint32, c string) {
	f.emit(append([]byte{0x0c}, uleb(depth)...), fmt.Sprintf("br %d", depth), c)
}
func (f *fn) brIf(depth uint32, c string) {
	f.emit(append([]byte{0x0d}, uleb(depth)...), fmt.Sprintf("br_if %d", depth), c)
}
func (f *fn) ret(c string) { f.emit([]byte{0x0f}, "return", c) }
func (f *fn) call(callee *fn, idx uint32, c string) {
	f.emit(append([]byte{0x10}, uleb(idx)...), "call $"+callee.name, c)
}

// Scalar float32 memory and arithmetic.

func (f *fn) f32Load(off uint32, c string) {
	f.emit(append([]byte{0x2a}, memarg(2, off)...), fmt.Sprintf("f32.load offset=%d", off), c)
}
func (f *fn) f32Store(off uint32, c string) {
	f.emit(append([]byte{0x38}, memarg(2, off)...), fmt.Sprintf("f32.store offset=%d", off), c)
}
func (f *fn) f32Add(c string) { f.emit([]byte{0x92}, "f32.add", c) }
func (f *fn) f32Mul(c string) { f.emit([]byte{0x94}, "f32.mul", c) }

// SIMD128. Loads and stores declare 4-byte alignment: Go's float32 slices
// promise no more, and the hint must not exceed what holds.

func (f *fn) v128Load(off uint32, c string) {
	f.emit(append(simd(0x00), memarg(2, off)...), fmt.Sprintf("v128.load offset=%d", off), c)
}
func (f *fn) v128Load32Splat(off uint32, c string) {
	f.emit(append(simd(0x09), memarg(2, off)...), fmt.Sprintf("v128.load32_splat offset=%d", off), c)
}
func (f *fn) v128Store(off uint32, c string) {
	f.emit(append(simd(0x0b), memarg(2, off)...), fmt.Sprintf("v128.store offset=%d", off), c)
}
func (f *fn) f32x4Add(c string) { f.emit(simd(0xe4), "f32x4.add", c) }
func (f *fn) f32x4Mul(c string) { f.emit(simd(0xe6), "f32x4.mul", c) }

// Encoding of the module (§5.5).

// uleb is the unsigned LEB128 encoding of v.
func uleb(v uint32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// sleb is the signed LEB128 encoding of v.
func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7 // arithmetic: the sign stays
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// name encodes a UTF-8 name: its length, then its bytes.
func name(s string) []byte { return append(uleb(uint32(len(s))), s...) }

// vec encodes a vector of already encoded items: the count, then the items.
func vec(items [][]byte) []byte {
	b := uleb(uint32(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

// section encodes section id with its contents, prefixed by their size.
func section(id byte, contents []byte) []byte {
	return append(append([]byte{id}, uleb(uint32(len(contents)))...), contents...)
}

// module encodes a module that imports its memory as (memModule, memName),
// with no minimum size and no maximum, holds funcs and exports funcs[0]
// as export. Each function gets its own type: the module is small enough
// not to share them.
func module(memModule, memName string, funcs []*fn, export string) []byte {
	var types, indices, bodies [][]byte
	for i, f := range funcs {
		// func type: 0x60, params, results (none).
		types = append(types, append(append([]byte{0x60}, uleb(uint32(len(f.params)))...), append(f.params, 0)...))
		indices = append(indices, uleb(uint32(i)))
		// Locals are declared as runs of one type: (count, type).
		var runs [][]byte
		for j := 0; j < len(f.locals); {
			k := j
			for k < len(f.locals) && f.locals[k] == f.locals[j] {
				k++
			}
			runs = append(runs, append(uleb(uint32(k-j)), f.locals[j]))
			j = k
		}
		code := append(vec(runs), f.body...)
		code = append(code, 0x0b) // the function's end
		bodies = append(bodies, append(uleb(uint32(len(code))), code...))
	}
	// import: module name, field name, kind 0x02 (memory), limits 0x00 min 0.
	imp := append(append(name(memModule), name(memName)...), 0x02, 0x00, 0x00)
	exp := append(name(export), 0x00, 0x00)                  // kind 0x00 (function), index 0
	m := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00} // magic, version 1
	m = append(m, section(1, vec(types))...)
	m = append(m, section(2, vec([][]byte{imp}))...)
	m = append(m, section(3, vec(indices))...)
	m = append(m, section(7, vec([][]byte{exp}))...)
	m = append(m, section(10, vec(bodies))...)
	return m
}

// header is the listing's first line of f: its name and variables.
func (f *fn) header() string {
	var b strings.Builder
	fmt.Fprintf(&b, "(func $%s", f.name)
	for i, n := range f.names {
		kind, t := "param", byte(i32)
		if i >= len(f.params) {
			kind, t = "local", f.locals[i-len(f.params)]
		}
		fmt.Fprintf(&b, " (%s $%s %s)", kind, n, typeName[t])
	}
	return b.String()
}

// incr writes x += by for i32 locals.
func (f *fn) incr(x, by local, note string) {
	f.get(x, "")
	f.get(by, "")
	f.i32Add("")
	f.set(x, note)
}

// incrConst writes x += c for an i32 local.
func (f *fn) incrConst(x local, c int32, note string) {
	f.get(x, "")
	f.i32Const(c, "")
	f.i32Add("")
	f.set(x, note)
}

// addr4 writes dst = base + 4n: the byte address of element n of a float
// array at base.
func (f *fn) addr4(dst, base, n local, note string) {
	f.get(base, "")
	f.get(n, "")
	f.i32Const(2, "")
	f.i32Shl("")
	f.i32Add("")
	f.set(dst, note)
}
