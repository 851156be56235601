//go:build !js

package gpu

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// Dispatch is one kernel dispatch of a Net step (Eps, then VJP) with its
// sizes, its arithmetic and its device time.
type Dispatch struct {
	// Kernel is the entry point, with a 3×3 conv's variant after a slash:
	// "conv3x3_fwd/s1", "conv3x3_vjp/s2" (Downsample), "conv3x3_fwd/up"
	// (Upsample), "conv1x1_vjp", "groupnorm_fwd", "attention_vjp_q", ….
	Kernel string
	// Sizes. Convs: Cin → Cout channels over Batch H×W inputs (before any
	// upsampling; a 1×1 conv's W counts the pixels of the whole batch,
	// Batch 1). GroupNorm: Cin channels of H·W pixels (H = 1) in Groups
	// groups for each of Batch samples, Silu if SiLU follows. Attention: Cin channels per q,
	// k and v over H·W positions (H = 1) in Heads heads. Combine, tile cuts
	// and blends: W values written.
	Cin, Cout, H, W int
	Batch           int
	Groups, Heads   int
	Silu            bool
	// Flops is the floating-point work counted as 2 per multiply-add of
	// the convs and attention's products; 0 for the normalisations and
	// vector sums, whose cost is memory traffic.
	Flops float64
	// Seconds is the mean device time of one run of the dispatch alone.
	Seconds float64
}

// Profile times the kernels of one Net step: it records one Eps at τ on a
// zero input and one VJP of its output, runs them, then replays each of
// their dispatches alone, runs times back to back in one submission, and
// waits. A dispatch's Seconds is the submission's wall time less that of
// an empty submission, divided by runs; so it includes the per-dispatch
// overhead of the driver, and a dispatch faster than the noise of a
// submission reads 0. (Native wgpu-native exposes timestamp queries only
// at pass boundaries, which this binding does not wrap; lavapipe's would
// time the same thing.) Buffer copies (concatenation, skip gradients)
// are not dispatches and are left out. Native only: it waits by spinning
// on wgpu-native's non-blocking Poll, which the js binding does not
// implement.
func (n *Net) Profile(tau float64, runs int) ([]Dispatch, error) {
	eps := func(dst, x *Buffer, tau float64) error { return n.eps(dst, x, tau, n.batch) }
	return profile(n.d, n.Dim(), runs, step(eps, n.vjp, &n.ready, tau))
}

// Profile times the kernels of one TiledNet step (Eps, then VJP) as
// Net.Profile does, tile cuts and blends included and the copies of
// results into the chunk left out. It lists every dispatch of the step,
// but replays each distinct one (the same kernel, buffers, sizes and
// workgroups: the batches of a large image repeat theirs) only once.
func (n *TiledNet) Profile(tau float64, runs int) ([]Dispatch, error) {
	return profile(n.d, n.Dim(), runs, step(n.eps, n.vjp, &n.ready, tau))
}

// step returns the recording of one network step: eps at τ into its
// buffer, marking the network ready for a VJP, then the VJP of that
// output into g.
func step(eps func(dst, x *Buffer, tau float64) error, vjp func(dst, v *Buffer) error, ready *bool, tau float64) func(e, x, g *Buffer) error {
	return func(e, x, g *Buffer) error {
		err := eps(e, x, tau)
		*ready = err == nil
		if err == nil {
			err = vjp(g, e)
		}
		return err
	}
}

// profile records step(eps, x, g) on three zeroed buffers of dim values,
// runs it, and times each distinct dispatch it recorded alone.
func profile(d *Device, dim, runs int, step func(eps, x, g *Buffer) error) ([]Dispatch, error) {
	if runs < 1 {
		panic(fmt.Sprintf("gpu: Profile: %d runs", runs))
	}
	bufs := make([]*Buffer, 3)
	for i := range bufs {
		b, err := d.NewBuffer(dim)
		if err != nil {
			return nil, err
		}
		defer b.Destroy()
		bufs[i] = b
	}
	x, eps, g := bufs[0], bufs[1], bufs[2]
	if err := d.Flush(); err != nil {
		return nil, err
	}
	var tr []traced
	d.trace = &tr
	err := step(eps, x, g)
	d.trace = nil
	if err != nil {
		return nil, fmt.Errorf("gpu: Profile: %w", err)
	}
	// One full run first: it compiles nothing more, but faults in every
	// buffer and leaves the activations the replays read.
	if err := g.readInto(1, func([]float32) {}); err != nil {
		return nil, err
	}
	base := time.Duration(1<<63 - 1)
	for range 5 {
		t, err := d.timeAlone(nil, runs, g)
		if err != nil {
			return nil, err
		}
		base = min(base, t)
	}
	type key struct {
		p      *pipeline
		bg     *wgpu.BindGroup
		g      [3]uint32
		params string
	}
	timed := map[key]float64{}
	out := make([]Dispatch, len(tr))
	for i := range tr {
		k := key{tr[i].p, tr[i].bg, tr[i].g, string(tr[i].params)}
		sec, ok := timed[k]
		if !ok {
			t, err := d.timeAlone(&tr[i], runs, g)
			if err != nil {
				return nil, err
			}
			sec = max(t-base, 0).Seconds() / float64(runs)
			timed[k] = sec
		}
		out[i] = describe(&tr[i])
		out[i].Seconds = sec
	}
	return out, nil
}

// timeAlone submits runs copies of dispatch t (none if t is nil) in one
// compute pass and returns the time until the queue is empty; it then
// reads back one value of sync, which reports any device error.
func (d *Device) timeAlone(t *traced, runs int, sync *Buffer) (time.Duration, error) {
	if err := d.Flush(); err != nil {
		return 0, err
	}
	enc, err := d.dev.CreateCommandEncoder(nil)
	if err != nil {
		return 0, fmt.Errorf("gpu: create command encoder: %w", err)
	}
	defer enc.Release()
	if t != nil {
		if err := queueWrite(d.queue, d.params, 0, t.params); err != nil {
			return 0, fmt.Errorf("gpu: upload kernel params: %w", err)
		}
		pass := enc.BeginComputePass(nil)
		for range runs {
			pass.SetPipeline(t.p.cp)
			pass.SetBindGroup(0, t.bg, []uint32{0})
			pass.DispatchWorkgroups(t.g[0], t.g[1], t.g[2])
		}
		err := endComputePass(pass)
		pass.Release()
		if err != nil {
			return 0, fmt.Errorf("gpu: end compute pass: %w", err)
		}
	}
	cmd, err := enc.Finish(nil)
	if err != nil {
		return 0, fmt.Errorf("gpu: finish commands: %w", err)
	}
	start := time.Now()
	d.queue.Submit(cmd)
	cmd.Release()
	// Spin on non-blocking polls (see mapRead for why not a blocking
	// one): the readback's backing-off sleeps would add up to the time
	// they wait.
	for !d.dev.Poll(false, nil) {
		if time.Since(start) > mapTimeout {
			return 0, fmt.Errorf("gpu: Net.Profile: no answer after waiting %v for the queue", mapTimeout)
		}
		time.Sleep(20 * time.Microsecond)
	}
	elapsed := time.Since(start)
	return elapsed, sync.readInto(1, func([]float32) {})
}

// describe returns the kernel name, sizes and arithmetic of a traced
// dispatch, decoded from its Params block.
func describe(t *traced) Dispatch {
	k := t.p.k
	ds := Dispatch{Kernel: k.entry, Batch: 1}
	switch k.file {
	case "conv.wgsl":
		p := paramsAs[convParams](t.params)
		ds.Cin, ds.Cout, ds.H, ds.W, ds.Batch = int(p.Cin), int(p.Cout), int(p.H), int(p.W), int(p.N)
		taps := 1.0
		if k.entry == "conv3x3_fwd" || k.entry == "conv3x3_vjp" {
			taps = 9
			var variant string
			for v, name := range [numConvVariants]string{convStride1: "s1", convStride2: "s2", convUp: "up"} {
				if k == conv3x3Fwd[v] || k == conv3x3VJP[v] {
					variant = name
				}
			}
			ds.Kernel += "/" + variant
		}
		ds.Flops = 2 * taps * float64(p.Cin) * float64(p.Cout) * float64(p.N) * float64(p.Ho) * float64(p.Wo)
	case "groupnorm.wgsl":
		p := paramsAs[groupnormParams](t.params)
		ds.Cin, ds.H, ds.W, ds.Groups, ds.Silu, ds.Batch = int(p.C), 1, int(p.N), int(p.Groups), p.Silu == 1, int(p.Batch)
	case "attention.wgsl":
		p := paramsAs[attentionParams](t.params)
		ds.Cin, ds.H, ds.W, ds.Heads = int(p.Ch), 1, int(p.N), int(p.Heads)
		// Two n×n×ch products per entry point: QKᵀ and AV forward, dS and
		// dQ for dq, dK and dV for dk and dv.
		ds.Flops = 4 * float64(p.N) * float64(p.N) * float64(p.Ch)
	case "tiled.wgsl":
		ds.W = int(paramsAs[tiledParams](t.params).N)
	case "combine.wgsl":
		ds.W = int(paramsAs[combineParams](t.params).N)
	}
	return ds
}

// paramsAs returns the Params block b as a P.
func paramsAs[P any](b []byte) P {
	var p P
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&p)), unsafe.Sizeof(p)), b)
	return p
}
