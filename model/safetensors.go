package model

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// MaxHeaderSize is the largest safetensors JSON header Read accepts. A
// Conjure header is a few tens of KiB; the limit bounds the one allocation
// made before anything in the file has been checked.
const MaxHeaderSize = 16 << 20

// FormatError reports a weight file that is not valid safetensors or does
// not hold the network its config describes.
type FormatError struct {
	Msg string // what is wrong, e.g. `tensor "conv_in.bias": dtype I8, want F32`
	Err error  // the underlying cause (a *ConfigError, a JSON error), or nil
}

// Error returns "model: invalid safetensors: ", the message and the cause.
func (e *FormatError) Error() string {
	s := "model: invalid safetensors: " + e.Msg
	if e.Err != nil {
		s += ": " + strings.TrimPrefix(e.Err.Error(), "model: ")
	}
	return s
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(format string, args ...any) error {
	return &FormatError{Msg: fmt.Sprintf(format, args...)}
}

// Safetensors dtypes this package reads and writes, with their element sizes.
const (
	dtypeF32 = "F32"
	dtypeI8  = "I8"
)

var dtypeSize = map[string]int64{dtypeF32: 4, dtypeI8: 1}

// stTensor is one tensor of a safetensors file: its header entry and bytes.
type stTensor struct {
	name  string
	dtype string
	shape []int
	data  []byte // little-endian elements
}

// stEntry is a tensor's header entry as JSON.
type stEntry struct {
	Dtype   string  `json:"dtype"`
	Shape   []int64 `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

// readSafetensors parses the safetensors file of size bytes in r: an 8-byte
// little-endian header length n, n bytes of JSON header, then the data
// section, which the tensors' data_offsets must tile exactly (no gaps, no
// overlaps, nothing after the last tensor). Every size is checked against
// the file size before anything is allocated, so a hostile header cannot
// cause an allocation larger than the file.
func readSafetensors(r io.ReaderAt, size int64) (meta map[string]string, tensors map[string]*stTensor, err error) {
	if size < 8 {
		return nil, nil, formatErr("file of %d bytes is shorter than the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readFull(r, lenBuf[:], 0); err != nil {
		return nil, nil, err
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, nil, formatErr("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, nil, formatErr("header length %d exceeds the %d bytes after it", n, size-8)
	}
	header := make([]byte, n)
	if err := readFull(r, header, 8); err != nil {
		return nil, nil, err
	}
	dataLen := size - 8 - int64(n)
	meta, entries, order, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}

	// Check every entry against dataLen before allocating its bytes.
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(order))
	for _, name := range order {
		e := entries[name]
		elem, ok := dtypeSize[e.Dtype]
		if !ok {
			return nil, nil, formatErr("tensor %q: dtype %q, want F32 or I8", name, e.Dtype)
		}
		if e.Shape == nil {
			return nil, nil, formatErr("tensor %q: no shape", name)
		}
		nbytes := elem
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, formatErr("tensor %q: negative dimension in shape %v", name, e.Shape)
			}
			// Compare before multiplying: nbytes·d cannot overflow if it stays ≤ dataLen.
			if d != 0 && nbytes > dataLen/d {
				return nil, nil, formatErr("tensor %q: shape %v needs more than the %d data bytes", name, e.Shape, dataLen)
			}
			nbytes *= d
		}
		if len(e.Offsets) != 2 {
			return nil, nil, formatErr("tensor %q: data_offsets %v, want [begin, end]", name, e.Offsets)
		}
		b, en := e.Offsets[0], e.Offsets[1]
		if b < 0 || b > en || en > dataLen {
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] outside the %d data bytes", name, b, en, dataLen)
		}
		if en-b != nbytes {
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] hold %d bytes, shape %v of %s needs %d",
				name, b, en, en-b, e.Shape, e.Dtype, nbytes)
		}
		spans = append(spans, span{name, b, en})
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end))
	})
	var pos int64
	for _, s := range spans {
		if s.begin < pos {
			return nil, nil, formatErr("tensor %q: data_offsets [%d, %d] overlap the previous tensor, which ends at %d", s.name, s.begin, s.end, pos)
		}
		if s.begin > pos {
			return nil, nil, formatErr("gap in the data section: bytes [%d, %d) belong to no tensor", pos, s.begin)
		}
		pos = s.end
	}
	if pos != dataLen {
		return nil, nil, formatErr("data section has %d bytes, tensors cover %d", dataLen, pos)
	}

	data := make([]byte, dataLen)
	if err := readFull(r, data, 8+int64(n)); err != nil {
		return nil, nil, err
	}
	tensors = make(map[string]*stTensor, len(entries))
	for _, s := range spans {
		e := entries[s.name]
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			shape[i] = int(d)
		}
		tensors[s.name] = &stTensor{name: s.name, dtype: e.Dtype, shape: shape, data: data[s.begin:s.end:s.end]}
	}
	return meta, tensors, nil
}

// readFull reads len(p) bytes at off, turning a short read into a
// FormatError (the file is shorter than its size claimed).
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil // io.ReaderAt may report io.EOF with a full read at the end
	}
	if err == nil || errors.Is(err, io.EOF) {
		return formatErr("file truncated: %d bytes at offset %d, want %d", n, off, len(p))
	}
	return fmt.Errorf("model: read at offset %d: %w", off, err)
}

// parseHeader decodes the JSON header: "__metadata__", a map of strings, and
// one entry per tensor. It walks the top-level object token by token so that
// a duplicated name, which a map decode would silently resolve, is an error.
// order lists the tensor names as they appear.
func parseHeader(header []byte) (meta map[string]string, entries map[string]stEntry, order []string, err error) {
	bad := func(err error) error { return &FormatError{Msg: "header JSON", Err: err} }
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.DisallowUnknownFields()
	if tok, err := dec.Token(); err != nil {
		return nil, nil, nil, bad(err)
	} else if tok != json.Delim('{') {
		return nil, nil, nil, formatErr("header is not a JSON object")
	}
	entries = make(map[string]stEntry)
	seenMeta := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, bad(err)
		}
		name := tok.(string) // object keys are always strings
		if _, dup := entries[name]; dup || (name == "__metadata__" && seenMeta) {
			return nil, nil, nil, formatErr("header names %q twice", name)
		}
		if name == "__metadata__" {
			seenMeta = true
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, nil, &FormatError{Msg: "__metadata__ must map strings to strings", Err: err}
			}
			continue
		}
		var e stEntry
		if err := dec.Decode(&e); err != nil {
			return nil, nil, nil, &FormatError{Msg: fmt.Sprintf("tensor %q", name), Err: err}
		}
		entries[name] = e
		order = append(order, name)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, nil, bad(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, nil, formatErr("data after the header's JSON object")
	}
	return meta, entries, order, nil
}

// writeSafetensors writes meta and tensors as a safetensors file, tensors in
// the given order. The header is padded with spaces to a multiple of 8 bytes
// so that the data section is aligned, as the reference writer does.
func writeSafetensors(w io.Writer, meta map[string]string, tensors []stTensor) (int64, error) {
	header := make(map[string]any, len(tensors)+1)
	header["__metadata__"] = meta
	var off int64
	for _, t := range tensors {
		shape := t.shape
		if shape == nil {
			shape = []int{}
		}
		end := off + int64(len(t.data))
		header[t.name] = map[string]any{"dtype": t.dtype, "shape": shape, "data_offsets": []int64{off, end}}
		off = end
	}
	h, err := json.Marshal(header)
	if err != nil {
		return 0, fmt.Errorf("model: write safetensors header: %w", err)
	}
	if pad := (8 - len(h)%8) % 8; pad > 0 {
		h = append(h, bytes.Repeat([]byte{' '}, pad)...)
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(h)))
	parts := [][]byte{lenBuf[:], h}
	for _, t := range tensors {
		parts = append(parts, t.data)
	}
	var total int64
	for _, p := range parts {
		n, err := w.Write(p)
		total += int64(n)
		if err != nil {
			return total, fmt.Errorf("model: write safetensors: %w", err)
		}
	}
	return total, nil
}

// float32s decodes little-endian F32 bytes.
func float32s(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// int8s decodes I8 bytes.
func int8s(b []byte) []int8 {
	out := make([]int8, len(b))
	for i, v := range b {
		out[i] = int8(v)
	}
	return out
}

// f32Bytes encodes v as little-endian F32 bytes.
func f32Bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

// i8Bytes encodes v as I8 bytes.
func i8Bytes(v []int8) []byte {
	out := make([]byte, len(v))
	for i, x := range v {
		out[i] = byte(x)
	}
	return out
}
