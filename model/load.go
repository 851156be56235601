package model

import (
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
)

// Weight file formats: the "format" entry of a file's metadata.
const (
	// FormatInt8 files store conv and linear weights as I8 with one F32
	// scale per output channel; biases and norm parameters are F32.
	FormatInt8 = "conjure-int8-v1"
	// FormatF32 files store every tensor as F32.
	FormatF32 = "conjure-f32-v1"
)

// Tensor is one parameter of a Model. Its slices belong to the Model and
// must not be modified.
type Tensor struct {
	Name  string // e.g. "mid.attn.qkv.weight"
	Shape []int  // PyTorch's shape, e.g. (out, in, kh, kw)
	// Data holds the values the network uses. For an int8 weight it is the
	// dequantized Q[i]·Scale[o] in float32, o being element i's output channel.
	Data []float32
	// Q and Scale hold an int8 file's weight as stored (Q has Shape, Scale
	// has Shape[0] elements) for uploaders that dequantize on the GPU. Both
	// are nil for biases, norm parameters and every tensor of an F32 model.
	Q     []int8
	Scale []float32
}

// Model is a loaded network: its Config, its parameters and the weight
// file's metadata. A Model is read-only and may be shared between
// goroutines; evaluate it with a Runner from NewRunner.
type Model struct {
	cfg     Config
	format  string
	meta    map[string]string
	size    int64
	tensors []Tensor       // in Config.Params order
	index   map[string]int // name → position in tensors
}

// LoadError records the weight file a Load failed on. Err is a
// *FormatError, or the error of opening or reading the file.
type LoadError struct {
	Path string
	Err  error
}

// Error returns "model: load PATH: " and the cause without its own prefix.
func (e *LoadError) Error() string {
	return "model: load " + e.Path + ": " + strings.TrimPrefix(e.Err.Error(), "model: ")
}

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *LoadError) Unwrap() error { return e.Err }

// Load reads the weight file at path; see Read. Errors are *LoadError.
func Load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &LoadError{Path: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &LoadError{Path: path, Err: err}
	}
	m, err := Read(f, st.Size())
	if err != nil {
		return nil, &LoadError{Path: path, Err: err}
	}
	return m, nil
}

// Read reads a weight file of size bytes from r (NETWORK.md, "Weight
// file"). The metadata must name the format (FormatInt8 or FormatF32) and
// hold a valid config; the file must hold exactly the tensors that config
// requires, with their shapes and the format's dtypes, all finite, and int8
// scales positive. size must be the true size of the data in r: Read
// allocates at most about size bytes plus the float32 copy of the
// parameters, and checks every size in the header before allocating.
// Errors other than I/O errors are *FormatError.
func Read(r io.ReaderAt, size int64) (*Model, error) {
	meta, sts, err := readSafetensors(r, size)
	if err != nil {
		return nil, err
	}
	format := meta["format"]
	if format != FormatInt8 && format != FormatF32 {
		return nil, formatErr("metadata format %q, want %q or %q", format, FormatInt8, FormatF32)
	}
	cs, ok := meta["config"]
	if !ok {
		return nil, formatErr("metadata has no config")
	}
	cfg, err := parseConfig(cs)
	if err != nil {
		return nil, &FormatError{Msg: "metadata config", Err: err}
	}

	taken := make(map[string]bool, len(sts))
	take := func(name, dtype string, shape []int) (*stTensor, error) {
		t, ok := sts[name]
		if !ok {
			return nil, formatErr("missing tensor %q", name)
		}
		if t.dtype != dtype {
			return nil, formatErr("tensor %q: dtype %s, want %s", name, t.dtype, dtype)
		}
		if !slices.Equal(t.shape, shape) {
			return nil, formatErr("tensor %q: shape %v, want %v", name, t.shape, shape)
		}
		taken[name] = true
		return t, nil
	}
	var tensors []Tensor
	for _, p := range cfg.Params() {
		t := Tensor{Name: p.Name, Shape: p.Shape}
		if format == FormatInt8 && p.Quantized {
			q, err := take(p.Name, dtypeI8, p.Shape)
			if err != nil {
				return nil, err
			}
			s, err := take(p.Name+"_scale", dtypeF32, p.Shape[:1])
			if err != nil {
				return nil, err
			}
			t.Q, t.Scale = int8s(q.data), float32s(s.data)
			for o, v := range t.Scale {
				if !(v > 0) || math.IsInf(float64(v), 0) {
					return nil, formatErr("tensor %q: scale[%d] = %v, want finite and > 0", s.name, o, v)
				}
			}
			t.Data = dequantize(t.Q, t.Scale)
		} else {
			d, err := take(p.Name, dtypeF32, p.Shape)
			if err != nil {
				return nil, err
			}
			t.Data = float32s(d.data)
			for i, v := range t.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return nil, formatErr("tensor %q: element %d is %v", p.Name, i, v)
				}
			}
		}
		tensors = append(tensors, t)
	}
	if len(taken) != len(sts) {
		var extra []string
		for name := range sts {
			if !taken[name] {
				extra = append(extra, name)
			}
		}
		slices.Sort(extra)
		return nil, formatErr("%d unexpected tensors, first %q", len(extra), extra[0])
	}
	return newModel(cfg, format, meta, size, tensors), nil
}

func newModel(cfg Config, format string, meta map[string]string, size int64, tensors []Tensor) *Model {
	m := &Model{cfg: cfg, format: format, meta: meta, size: size, tensors: tensors, index: make(map[string]int, len(tensors))}
	for i, t := range tensors {
		m.index[t.Name] = i
	}
	return m
}

// Config returns the model's config.
func (m *Model) Config() Config { return m.cfg.clone() }

// Format returns FormatInt8 or FormatF32.
func (m *Model) Format() string { return m.format }

// Metadata returns a copy of the weight file's metadata: "format", "config"
// and free-form provenance such as "images_seen" or "torch".
func (m *Model) Metadata() map[string]string { return maps.Clone(m.meta) }

// FileSize returns the size in bytes of the file the model was read from,
// or 0 for a model made in memory (NewRandom, Quantize).
func (m *Model) FileSize() int64 { return m.size }

// NumParams returns the number of network parameters: the elements of all
// weights, biases and norm parameters, not counting int8 scales.
func (m *Model) NumParams() int {
	n := 0
	for _, t := range m.tensors {
		n += len(t.Data)
	}
	return n
}

// Tensor returns the parameter called name (see Config.Params for the
// names) and whether it exists.
func (m *Model) Tensor(name string) (Tensor, bool) {
	i, ok := m.index[name]
	if !ok {
		return Tensor{}, false
	}
	return m.tensors[i], true
}

// Tensors returns every parameter, in the order of Config.Params.
func (m *Model) Tensors() []Tensor { return slices.Clone(m.tensors) }

// param returns the values of a parameter the config requires.
func (m *Model) param(name string) []float32 {
	i, ok := m.index[name]
	if !ok {
		panic("model: no parameter " + name) // the config's blocks and Params disagree
	}
	return m.tensors[i].Data
}

// WriteTo writes the model as a safetensors weight file in its format, with
// its metadata, "format" and "config" set from the model. The file reads
// back with Read to an identical model. It implements io.WriterTo.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	meta, ts := m.encode()
	return writeSafetensors(w, meta, ts)
}

// encode returns the metadata and tensors of m's weight file.
func (m *Model) encode() (map[string]string, []stTensor) {
	meta := maps.Clone(m.meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta["format"] = m.format
	meta["config"] = m.cfg.marshal()
	var ts []stTensor
	for _, t := range m.tensors {
		if t.Q != nil {
			ts = append(ts,
				stTensor{name: t.Name, dtype: dtypeI8, shape: t.Shape, data: i8Bytes(t.Q)},
				stTensor{name: t.Name + "_scale", dtype: dtypeF32, shape: []int{len(t.Scale)}, data: f32Bytes(t.Scale)})
		} else {
			ts = append(ts, stTensor{name: t.Name, dtype: dtypeF32, shape: t.Shape, data: f32Bytes(t.Data)})
		}
	}
	return meta, ts
}
