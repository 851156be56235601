package model

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// NewRandom returns an F32 model of the given config with random weights
// drawn from a PCG generator seeded with seed, for tests and benchmarks
// (CPU here, GPU kernels against this package). Conv and linear weights are
// uniform in ±1/√fan_in as PyTorch initialises them; biases are uniform in
// ±0.1; norm weights in 1 ± 0.1 and norm biases in ±0.1, so that no
// parameter is the identity and every term of every formula is exercised.
// The metadata records the seed. It returns a *ConfigError if cfg is
// invalid.
func NewRandom(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.clone()
	rng := rand.New(rand.NewPCG(seed, 0))
	uniform := func(dst []float32, centre, half float64) {
		for i := range dst {
			dst[i] = float32(centre + half*(2*rng.Float64()-1))
		}
	}
	var tensors []Tensor
	for _, p := range cfg.Params() {
		n := 1
		for _, d := range p.Shape {
			n *= d
		}
		t := Tensor{Name: p.Name, Shape: p.Shape, Data: make([]float32, n)}
		switch {
		case p.Quantized:
			uniform(t.Data, 0, 1/math.Sqrt(float64(n/p.Shape[0])))
		case strings.HasSuffix(p.Name, ".weight"): // a norm's scale
			uniform(t.Data, 1, 0.1)
		default:
			uniform(t.Data, 0, 0.1)
		}
		tensors = append(tensors, t)
	}
	meta := map[string]string{
		"format": FormatF32,
		"config": cfg.marshal(),
		"source": "model.NewRandom(seed=" + strconv.FormatUint(seed, 10) + ")",
	}
	return newModel(cfg, FormatF32, meta, 0, tensors), nil
}

// Quantize returns the int8 model NETWORK.md defines from m's weights: for
// each conv and linear weight and each output channel o, scale[o] =
// max|w|/127 (1 if the row is all zero), q = clamp(round(w/scale), −127,
// 127) with round-half-to-even as torch.round, all in float32; biases and
// norm parameters are kept. Its Data is the dequantized weight, so running
// it gives what a Runner of the reloaded int8 file gives.
func (m *Model) Quantize() *Model {
	tensors := make([]Tensor, len(m.tensors))
	for i, p := range m.cfg.Params() { // m.tensors is in this order
		t := m.tensors[i]
		tensors[i] = Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data}
		if p.Quantized {
			q, s := quantize(t.Data, t.Shape[0])
			tensors[i].Q, tensors[i].Scale, tensors[i].Data = q, s, dequantize(q, s)
		}
	}
	meta := m.Metadata()
	meta["format"] = FormatInt8
	return newModel(m.cfg.clone(), FormatInt8, meta, 0, tensors)
}

// quantize applies NETWORK.md's symmetric per-output-channel rule to w,
// whose rows (output channels) number rows.
func quantize(w []float32, rows int) ([]int8, []float32) {
	q := make([]int8, len(w))
	scale := make([]float32, rows)
	n := len(w) / rows
	for o := range rows {
		row := w[o*n : (o+1)*n]
		var mx float32
		for _, v := range row {
			mx = max(mx, float32(math.Abs(float64(v))))
		}
		s := mx / 127
		if mx == 0 {
			s = 1
		}
		scale[o] = s
		for i, v := range row {
			q[o*n+i] = int8(max(-127, min(127, math.RoundToEven(float64(v/s)))))
		}
	}
	return q, scale
}

// dequantize returns q·scale in float32, one scale per row of q.
func dequantize(q []int8, scale []float32) []float32 {
	w := make([]float32, len(q))
	n := len(q) / len(scale)
	for i, v := range q {
		w[i] = float32(v) * scale[i/n]
	}
	return w
}
