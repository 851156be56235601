package model

import "math"

// TimeTerms computes the parts of the network that depend on τ alone — the
// time embedding SiLU(temb(τ)) and each ResBlock's projection of it — in
// float32 exactly as a Runner does, so that other executors (the GPU's) can
// compute them on the CPU and agree with the Runner to round-off.
// A TimeTerms is not safe for concurrent use.
type TimeTerms struct {
	m              *Model
	w1, b1, w2, b2 []float32
	emb, hid, act  []float32
}

// NewTimeTerms returns the τ-only computations of m.
func (m *Model) NewTimeTerms() *TimeTerms {
	C := m.cfg.Channels
	return &TimeTerms{
		m:  m,
		w1: m.param("time.lin1.weight"), b1: m.param("time.lin1.bias"),
		w2: m.param("time.lin2.weight"), b2: m.param("time.lin2.bias"),
		emb: make([]float32, C), hid: make([]float32, 4*C), act: make([]float32, 4*C),
	}
}

// Embed computes SiLU(temb(τ)): the sinusoidal embedding of t = TimeScale·τ,
// cos first, e_k = cos(t·f_k), e_{half+k} = sin(t·f_k) with
// f_k = exp(−ln(10000)·k/half) (computed in float64, then rounded), through
// Linear(C→4C), SiLU, Linear(4C→4C), SiLU. It returns the activation (4C
// values), which stays valid until the next Embed.
func (t *TimeTerms) Embed(tau float64) []float32 {
	half := t.m.cfg.Channels / 2
	s := t.m.cfg.TimeScale * tau
	for k := range half {
		f := math.Exp(-math.Log(10000) * float64(k) / float64(half))
		t.emb[k] = float32(math.Cos(s * f))
		t.emb[half+k] = float32(math.Sin(s * f))
	}
	linear(t.hid, t.emb, t.w1, t.b1)
	silu(t.hid, t.hid)
	linear(t.act, t.hid, t.w2, t.b2)
	silu(t.act, t.act)
	return t.act
}

// Project sets dst (the block's Cout values) to ResBlock block's time term
// Linear(4C→Cout)(act), with act from Embed.
func (t *TimeTerms) Project(dst, act []float32, block string) {
	linear(dst, act, t.m.param(block+".temb.weight"), t.m.param(block+".temb.bias"))
}
