package model

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// microConfig is the smallest valid network: one level, no attention but
// the middle's. Its files are a few KiB, which keeps fuzzing fast.
func microConfig() Config {
	return Config{
		Resolution: 2, InChannels: 1, Channels: 2, Mult: []int{1}, ResBlocks: 1,
		Groups: 1, Heads: 1, TimeScale: 1000,
	}
}

func fileOf(t testing.TB, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	n, err := m.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, b.Len())
	}
	return b.Bytes()
}

func readBytes(b []byte) (*Model, error) { return Read(bytes.NewReader(b), int64(len(b))) }

// sameModel reports how a and b differ, or "".
func sameModel(a, b *Model) string {
	switch {
	case !reflect.DeepEqual(a.Config(), b.Config()):
		return "configs differ"
	case a.Format() != b.Format():
		return "formats differ"
	case !reflect.DeepEqual(a.Tensors(), b.Tensors()):
		return "tensors differ"
	}
	return ""
}

func TestRoundTrip(t *testing.T) {
	f32 := newTiny(t)
	for _, m := range []*Model{f32, f32.Quantize()} {
		t.Run(m.Format(), func(t *testing.T) {
			b := fileOf(t, m)
			if len(b)%8 != 0 && binary.LittleEndian.Uint64(b)%8 != 0 {
				t.Error("header not padded to a multiple of 8 bytes")
			}
			got, err := readBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameModel(got, m); d != "" {
				t.Fatal(d)
			}
			if got.FileSize() != int64(len(b)) || got.NumParams() != m.NumParams() {
				t.Errorf("FileSize %d, NumParams %d; want %d, %d", got.FileSize(), got.NumParams(), len(b), m.NumParams())
			}
			if md := got.Metadata(); md["source"] != "model.NewRandom(seed=7)" || md["format"] != m.Format() {
				t.Errorf("metadata %v", md)
			}
			// The reloaded model computes exactly what the in-memory one does.
			rng := newRNG()
			r1, r2 := m.NewRunner(), got.NewRunner()
			x := randImage(rng, r1.Dim())
			e1, e2 := make([]float64, len(x)), make([]float64, len(x))
			r1.Eps(e1, x, 0.4)
			r2.Eps(e2, x, 0.4)
			if !slices.Equal(e1, e2) {
				t.Error("reloaded model gives a different ε")
			}
		})
	}
}

func TestQuantize(t *testing.T) {
	m := newTiny(t)
	q := m.Quantize()
	if q.Format() != FormatInt8 || q.Metadata()["format"] != FormatInt8 {
		t.Fatal("Quantize does not make an int8 model")
	}
	for i, p := range m.Config().Params() {
		a, b := m.Tensors()[i], q.Tensors()[i]
		if !p.Quantized {
			if b.Q != nil || !slices.Equal(a.Data, b.Data) {
				t.Errorf("%s: changed by Quantize", p.Name)
			}
			continue
		}
		n := len(a.Data) / p.Shape[0]
		for o, s := range b.Scale {
			var mx float32
			for _, v := range a.Data[o*n : (o+1)*n] {
				mx = max(mx, float32(math.Abs(float64(v))))
			}
			if s != mx/127 {
				t.Fatalf("%s: scale[%d] = %g, want max|w|/127 = %g", p.Name, o, s, mx/127)
			}
			for i := o * n; i < (o+1)*n; i++ {
				if math.Abs(float64(a.Data[i]-b.Data[i])) > float64(s)/2*(1+1e-6) || b.Data[i] != float32(b.Q[i])*s {
					t.Fatalf("%s[%d]: %g quantized to %d·%g = %g", p.Name, i, a.Data[i], b.Q[i], s, b.Data[i])
				}
			}
		}
	}
	// The rule's corner cases: an all-zero row, ties rounding to even.
	qz, sz := quantize([]float32{0, 0, 0, 127, -63.5, 0.5}, 2)
	if !slices.Equal(qz, []int8{0, 0, 0, 127, -64, 0}) || !slices.Equal(sz, []float32{1, 1}) {
		t.Errorf("quantize = %v, %v; want [0 0 0 127 -64 0], [1 1]", qz, sz)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	m := newTiny(t).Quantize()
	if err := os.WriteFile(path, fileOf(t, m), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameModel(got, m); d != "" {
		t.Error(d)
	}
	_, err = Load(filepath.Join(dir, "missing"))
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want a *LoadError wrapping fs.ErrNotExist", err)
	}
	if err := os.WriteFile(path, []byte("not a weight file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	var fe *FormatError
	if !errors.As(err, &le) || !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "model: load "+path+": invalid safetensors: ") {
		t.Errorf("Load of a bad file: %v, want a *LoadError wrapping a *FormatError", err)
	}
}

// failingReader fails every read after the first n bytes.
type failingReader struct {
	b []byte
	n int64
}

var errDisk = errors.New("disk on fire")

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.n {
		return 0, errDisk
	}
	return copy(p, r.b[off:]), nil
}

func TestReadIOError(t *testing.T) {
	b := fileOf(t, newTiny(t))
	for _, n := range []int64{0, 8, int64(len(b)) - 1} {
		_, err := Read(failingReader{b, n}, int64(len(b)))
		var fe *FormatError
		if !errors.Is(err, errDisk) || errors.As(err, &fe) {
			t.Errorf("read failing after %d bytes: %v, want the I/O error, not a *FormatError", n, err)
		}
	}
}

// assemble builds a safetensors file from a raw header and data section.
func assemble(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// split returns the header of file as a JSON object and the data section.
func split(t testing.TB, file []byte) (map[string]any, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(file)
	var h map[string]any
	if err := json.Unmarshal(file[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	return h, file[8+n:]
}

func rebuild(t testing.TB, h map[string]any, data []byte) []byte {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return assemble(string(b), data)
}

// editTensors rewrites m's file after edit has changed its tensor list or
// metadata; offsets are recomputed, so the file stays valid safetensors.
func editTensors(t testing.TB, m *Model, edit func(meta map[string]string, ts []stTensor) []stTensor) []byte {
	t.Helper()
	meta, ts := m.encode()
	ts = edit(meta, ts)
	var b bytes.Buffer
	if _, err := writeSafetensors(&b, meta, ts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func setTensor(ts []stTensor, name string, f func(*stTensor)) []stTensor {
	for i := range ts {
		if ts[i].name == name {
			f(&ts[i])
		}
	}
	return ts
}

func TestReadErrors(t *testing.T) {
	m := newTiny(t)
	valid := fileOf(t, m)
	h, data := split(t, valid)
	entry := func(h map[string]any, name string) map[string]any { return h[name].(map[string]any) }
	offsets := func(h map[string]any, name string) []any { return entry(h, name)["data_offsets"].([]any) }
	headerEdit := func(f func(h map[string]any)) []byte {
		h, data := split(t, valid)
		f(h)
		return rebuild(t, h, data)
	}
	int8File := fileOf(t, m.Quantize())
	withLen := func(n uint64) []byte {
		b := slices.Clone(valid)
		binary.LittleEndian.PutUint64(b, n)
		return b
	}
	// Two bias tensors of one shape, a stored before b: b moved onto a
	// overlaps it before the gap b leaves is reached.
	a, b := "down.0.res.0.conv1.bias", "down.0.res.0.conv2.bias"
	if offsets(h, a)[0].(float64) >= offsets(h, b)[0].(float64) {
		t.Fatalf("%s is not stored before %s", a, b)
	}
	dataLen := float64(len(data))

	for _, c := range []struct {
		name, want string
		file       []byte
	}{
		{"empty", "shorter than", nil},
		{"7 bytes", "shorter than", valid[:7]},
		{"header length beyond file", "exceeds the", withLen(uint64(len(valid)))},
		{"huge header length", "exceeds the limit", withLen(1 << 62)},
		{"header length 0", "header JSON", withLen(0)},
		{"truncated header", "exceeds the", valid[:100]},
		{"truncated data", "outside the", valid[:len(valid)-10]},
		{"trailing bytes", "tensors cover", append(slices.Clone(valid), 0, 0, 0, 0)},
		{"not an object", "not a JSON object", assemble(`["a"]`, nil)},
		{"bad JSON", `tensor "a": unexpected EOF`, assemble(`{"a": {"dtype": "F32",`, nil)},
		{"data after JSON", "after the header", assemble(`{} {}`, nil)},
		{"duplicate tensor", "twice", assemble(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"duplicate metadata", "twice", assemble(`{"__metadata__":{},"__metadata__":{}}`, nil)},
		{"unknown entry field", "unknown field", assemble(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4))},
		{"non-string metadata", "map strings to strings", assemble(`{"__metadata__":{"format":1}}`, nil)},
		{"no shape", "no shape", assemble(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, make([]byte, 4))},
		{"fractional shape", "cannot unmarshal number 1.5", assemble(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, make([]byte, 4))},
		{"offsets out of range", "outside the", headerEdit(func(h map[string]any) {
			entry(h, "conv_in.bias")["data_offsets"] = []any{dataLen, dataLen + 32}
		})},
		{"negative offset", "outside the", headerEdit(func(h map[string]any) { entry(h, "conv_in.bias")["data_offsets"] = []any{-32, 0} })},
		{"three offsets", "want [begin, end]", headerEdit(func(h map[string]any) { entry(h, "conv_in.bias")["data_offsets"] = []any{0, 32, 64} })},
		{"offsets and shape disagree", "needs 32", headerEdit(func(h map[string]any) {
			o := offsets(h, "conv_in.bias")
			o[1] = o[0].(float64) + 4
		})},
		{"overlapping", "overlap", headerEdit(func(h map[string]any) { entry(h, b)["data_offsets"] = offsets(h, a) })},
		{"gap", "bytes [4, 8) belong to no tensor", assemble(
			`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12))},
		{"dtype F16", `dtype "F16"`, headerEdit(func(h map[string]any) { entry(h, "conv_in.bias")["dtype"] = "F16" })},
		{"huge shape", "needs more than", headerEdit(func(h map[string]any) { entry(h, "conv_in.bias")["shape"] = []any{1 << 40, 1 << 40} })},
		{"negative dimension", "negative dimension", headerEdit(func(h map[string]any) { entry(h, "conv_in.bias")["shape"] = []any{-8} })},
		{"no metadata", "format", headerEdit(func(h map[string]any) { delete(h, "__metadata__") })},
		{"unknown format", "format", editTensors(t, m, func(md map[string]string, ts []stTensor) []stTensor { md["format"] = "conjure-f16-v1"; return ts })},
		{"no config", "no config", editTensors(t, m, func(md map[string]string, ts []stTensor) []stTensor { delete(md, "config"); return ts })},
		{"config not JSON", "metadata config", editTensors(t, m, func(md map[string]string, ts []stTensor) []stTensor { md["config"] = "{"; return ts })},
		{"config unknown field", "unknown field", editTensors(t, m, func(md map[string]string, ts []stTensor) []stTensor {
			md["config"] = strings.Replace(md["config"], "{", `{"dropout":0,`, 1)
			return ts
		})},
		{"config invalid", "metadata config: invalid config: level 0 width 7", editTensors(t, m, func(md map[string]string, ts []stTensor) []stTensor {
			md["config"] = strings.Replace(md["config"], `"channels":8`, `"channels":7`, 1)
			return ts
		})},
		{"missing tensor", `missing tensor "mid.attn.qkv.bias"`, editTensors(t, m, func(_ map[string]string, ts []stTensor) []stTensor {
			return slices.DeleteFunc(ts, func(s stTensor) bool { return s.name == "mid.attn.qkv.bias" })
		})},
		{"extra tensor", `unexpected tensors, first "zzz"`, editTensors(t, m, func(_ map[string]string, ts []stTensor) []stTensor {
			return append(ts, stTensor{name: "zzz", dtype: dtypeF32, shape: []int{1}, data: make([]byte, 4)})
		})},
		{"wrong shape", `"conv_in.weight": shape [8 3 9]`, editTensors(t, m, func(_ map[string]string, ts []stTensor) []stTensor {
			return setTensor(ts, "conv_in.weight", func(s *stTensor) { s.shape = []int{8, 3, 9} })
		})},
		{"I8 bias", `"conv_in.bias": dtype I8, want F32`, editTensors(t, m, func(_ map[string]string, ts []stTensor) []stTensor {
			return setTensor(ts, "conv_in.bias", func(s *stTensor) { s.dtype, s.data = dtypeI8, make([]byte, 8) })
		})},
		{"NaN weight", "is NaN", editTensors(t, m, func(_ map[string]string, ts []stTensor) []stTensor {
			return setTensor(ts, "conv_out.weight", func(s *stTensor) { binary.LittleEndian.PutUint32(s.data[4:], math.Float32bits(float32(math.NaN()))) })
		})},
		{"int8: F32 weight", `"time.lin1.weight": dtype F32, want I8`, editTensors(t, m, func(md map[string]string, ts []stTensor) []stTensor {
			md["format"] = FormatInt8
			return ts
		})},
		{"int8: zero scale", "want finite and > 0", func() []byte {
			q := m.Quantize()
			return editTensors(t, q, func(_ map[string]string, ts []stTensor) []stTensor {
				return setTensor(ts, "conv_in.weight_scale", func(s *stTensor) { clear(s.data[:4]) })
			})
		}()},
		{"int8: missing scale", `missing tensor "mid.res1.temb.weight_scale"`, func() []byte {
			h, data := split(t, int8File)
			o := offsets(h, "mid.res1.temb.weight_scale")
			h["x"] = map[string]any{"dtype": "F32", "shape": []any{(o[1].(float64) - o[0].(float64)) / 4}, "data_offsets": o}
			delete(h, "mid.res1.temb.weight_scale")
			return rebuild(t, h, data)
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := readBytes(c.file)
			var fe *FormatError
			if got != nil || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) ||
				!strings.HasPrefix(err.Error(), "model: invalid safetensors: ") {
				t.Errorf("Read = %v, %v; want a *FormatError containing %q", got, err, c.want)
			}
		})
	}
	_, err := readBytes(editTensors(t, m, func(md map[string]string, ts []stTensor) []stTensor {
		md["config"] = strings.Replace(md["config"], `"heads":2`, `"heads":3`, 1)
		return ts
	}))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("invalid config in a file: %v, want a *ConfigError inside", err)
	}
}

// FuzzRead feeds Read arbitrary bytes, seeded with valid F32 and int8 files
// of the micro config (small seeds keep mutation and minimisation fast).
// Read must not panic, and any file it accepts must write back to a file
// that reads as the same model.
func FuzzRead(f *testing.F) {
	m, err := NewRandom(microConfig(), 1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fileOf(f, m))
	f.Add(fileOf(f, m.Quantize()))
	f.Add([]byte{})
	f.Add(assemble(`{"__metadata__":{"format":"conjure-f32-v1"},"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readBytes(b)
		if err != nil {
			return
		}
		again, err := readBytes(fileOf(t, m))
		if err != nil {
			t.Fatalf("written file does not read back: %v", err)
		}
		if d := sameModel(again, m); d != "" {
			t.Fatal(d)
		}
	})
}
