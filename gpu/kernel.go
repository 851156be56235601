package gpu

import (
	"fmt"
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"

	"conjure/shaders"
)

// defaultWG is the workgroup size of every kernel: 64 invocations fill a
// wavefront on AMD and two warps on NVIDIA, and stay far below the 256
// invocations per workgroup that WebGPU guarantees.
const defaultWG = 64

// access is how a kernel binds a storage buffer.
type access uint8

const (
	readOnly  access = iota // var<storage, read>
	readWrite               // var<storage, read_write>
)

// kernel describes one WGSL entry point: its file in package shaders, the
// storage buffers it binds at @group(0) @binding(0 … len−1) in order, and
// its uniform Params at the next binding. params is the size of the Go
// Params struct that mirrors the WGSL one (TestParamsMirrorWGSL checks them
// field for field). defs, if any, are WGSL constant declarations prepended
// to the file: a source variant, such as a convolution's stride, that the
// compiler folds into the loops instead of branching on a uniform.
type kernel struct {
	file, entry string
	wg          uint32
	defs        string
	storage     []access
	params      uint64
}

// The cache keys hold only what changes the shader text: the file, the
// workgroup size, which is prepended as the constant WG, and the defs.
type moduleKey struct {
	file string
	wg   uint32
	defs string
}

type pipelineKey struct {
	moduleKey
	entry string
}

// pipeline is a compiled kernel with its explicit layouts (the js backend
// has no automatic layout and no GetBindGroupLayout).
type pipeline struct {
	k      *kernel
	bgl    *wgpu.BindGroupLayout
	layout *wgpu.PipelineLayout
	cp     *wgpu.ComputePipeline
}

func (p *pipeline) release() {
	p.cp.Release()
	p.layout.Release()
	p.bgl.Release()
}

// bindKey identifies a bind group: a pipeline and the buffers bound to its
// storage bindings. Samplers reuse the same few buffers every step, so after
// the first step no bind group is created.
type bindKey struct {
	p    *pipeline
	bufs [maxStorage]*wgpu.Buffer
}

// maxStorage is the number of storage buffers one kernel may bind: the
// WebGPU default of maxStorageBuffersPerShaderStage, which browsers grant
// without asking.
const maxStorage = 8

// pipeline returns the compiled pipeline of k, building it on first use.
// It checks the workgroup size and the number of storage bindings against
// the device limits.
func (d *Device) pipeline(k *kernel) (*pipeline, error) {
	key := pipelineKey{moduleKey{k.file, k.wg, k.defs}, k.entry}
	if p, ok := d.pipelines[key]; ok {
		return p, nil
	}
	if k.wg > d.limits.MaxComputeInvocationsPerWorkgroup || k.wg > d.limits.MaxComputeWorkgroupSizeX {
		return nil, fmt.Errorf("gpu: create pipeline %q: workgroup size %d exceeds the device limits (%d invocations, %d along x)",
			k.entry, k.wg, d.limits.MaxComputeInvocationsPerWorkgroup, d.limits.MaxComputeWorkgroupSizeX)
	}
	if n := uint32(len(k.storage)); n > maxStorage || n > d.limits.MaxStorageBuffersPerShaderStage {
		return nil, fmt.Errorf("gpu: create pipeline %q: %d storage buffers exceed the limit %d",
			k.entry, n, min(maxStorage, d.limits.MaxStorageBuffersPerShaderStage))
	}
	mod, err := d.module(key.moduleKey)
	if err != nil {
		return nil, fmt.Errorf("gpu: create pipeline %q: %w", k.entry, err)
	}
	entries := make([]wgpu.BindGroupLayoutEntry, 0, len(k.storage)+1)
	for i, a := range k.storage {
		t := wgpu.BufferBindingTypeReadOnlyStorage
		if a == readWrite {
			t = wgpu.BufferBindingTypeStorage
		}
		entries = append(entries, wgpu.BindGroupLayoutEntry{
			Binding: uint32(i), Visibility: wgpu.ShaderStageCompute,
			Buffer: wgpu.BufferBindingLayout{Type: t},
		})
	}
	// The params binding has a dynamic offset: every dispatch of a batch
	// reads its own block of one shared uniform buffer.
	entries = append(entries, wgpu.BindGroupLayoutEntry{
		Binding: uint32(len(k.storage)), Visibility: wgpu.ShaderStageCompute,
		Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeUniform, HasDynamicOffset: true, MinBindingSize: k.params},
	})
	p := &pipeline{k: k}
	if p.bgl, err = d.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: k.entry, Entries: entries}); err != nil {
		return nil, fmt.Errorf("gpu: create pipeline %q: bind group layout: %w", k.entry, err)
	}
	if p.layout, err = d.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: k.entry, BindGroupLayouts: []*wgpu.BindGroupLayout{p.bgl}}); err != nil {
		p.bgl.Release()
		return nil, fmt.Errorf("gpu: create pipeline %q: pipeline layout: %w", k.entry, err)
	}
	p.cp, err = d.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
		Layout:  p.layout,
		Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: k.entry},
	})
	if err != nil {
		p.layout.Release()
		p.bgl.Release()
		return nil, fmt.Errorf("gpu: create pipeline %q: %w", k.entry, err)
	}
	d.pipelines[key] = p
	return p, nil
}

// module returns the shader module of a file at a workgroup size.
func (d *Device) module(key moduleKey) (*wgpu.ShaderModule, error) {
	if m, ok := d.modules[key]; ok {
		return m, nil
	}
	src, err := shaders.Source(key.file)
	if err != nil {
		return nil, err
	}
	code := fmt.Sprintf("const WG: u32 = %du;\n%s\n%s", key.wg, key.defs, src)
	m, err := d.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{
		Label:          key.file,
		WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: code},
	})
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", key.file, err)
	}
	d.modules[key] = m
	return m, nil
}

// grid returns the workgroup counts that cover n invocations of workgroup
// size wg: ceil(n/wg) along x, folded into y past the device's per-dimension
// limit (kernels rebuild the flat index from num_workgroups and guard
// against the overshoot).
func (d *Device) grid(n int, wg uint32) ([3]uint32, error) {
	groups := (uint64(n) + uint64(wg) - 1) / uint64(wg)
	m := uint64(d.maxGroups)
	if groups <= m {
		return [3]uint32{uint32(groups), 1, 1}, nil
	}
	y := (groups + m - 1) / m
	if y > m {
		return [3]uint32{}, fmt.Errorf("gpu: %d elements need %d workgroups, more than %d² allowed", n, groups, m)
	}
	return [3]uint32{uint32(m), uint32(y), 1}, nil
}

// traced is one dispatch as it was recorded, for Net.Profile to replay
// alone.
type traced struct {
	p      *pipeline
	bg     *wgpu.BindGroup
	g      [3]uint32
	params []byte // the dispatch's Params block
}

// dispatch records kernel k over the workgroups g, with params (a pointer
// to k's Params struct) and the storage buffers bufs in binding order, into
// the pending batch. Nothing runs until the batch is submitted.
func dispatch[P any](d *Device, k *kernel, g [3]uint32, params *P, bufs ...*Buffer) error {
	if uint64(unsafe.Sizeof(*params)) != k.params {
		panic(fmt.Sprintf("gpu: %s: params of %d bytes, kernel wants %d", k.entry, unsafe.Sizeof(*params), k.params))
	}
	if len(bufs) != len(k.storage) {
		panic(fmt.Sprintf("gpu: %s: %d buffers, kernel binds %d", k.entry, len(bufs), len(k.storage)))
	}
	if g[0] == 0 {
		return nil
	}
	p, err := d.pipeline(k)
	if err != nil {
		return err
	}
	key := bindKey{p: p}
	for i, b := range bufs {
		key.bufs[i] = b.buf
	}
	bg, err := d.bindGroup(key)
	if err != nil {
		return err
	}
	if uint64(len(d.paramBytes))+d.slot > paramsSlots*d.slot {
		if err := d.Flush(); err != nil {
			return err
		}
	}
	if err := d.begin(); err != nil {
		return err
	}
	off := uint32(len(d.paramBytes))
	d.paramBytes = append(d.paramBytes, unsafe.Slice((*byte)(unsafe.Pointer(params)), k.params)...)
	if d.trace != nil {
		*d.trace = append(*d.trace, traced{p: p, bg: bg, g: g, params: append([]byte(nil), d.paramBytes[off:]...)})
	}
	d.paramBytes = d.paramBytes[:uint64(off)+d.slot]
	d.pass.SetPipeline(p.cp)
	d.pass.SetBindGroup(0, bg, []uint32{off})
	d.pass.DispatchWorkgroups(g[0], g[1], g[2])
	return nil
}

// bindGroup returns the cached bind group of key, creating it on first use.
func (d *Device) bindGroup(key bindKey) (*wgpu.BindGroup, error) {
	if bg, ok := d.bindGroups[key]; ok {
		return bg, nil
	}
	k := key.p.k
	entries := make([]wgpu.BindGroupEntry, 0, len(k.storage)+1)
	for i := range k.storage {
		entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(i), Buffer: key.bufs[i], Size: wgpu.WholeSize})
	}
	entries = append(entries, wgpu.BindGroupEntry{Binding: uint32(len(k.storage)), Buffer: d.params, Size: k.params})
	bg, err := d.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: k.entry, Layout: key.p.bgl, Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("gpu: bind %q: %w", k.entry, err)
	}
	d.bindGroups[key] = bg
	return bg, nil
}

// begin opens the batch's encoder and compute pass if they are not open.
func (d *Device) begin() error {
	if d.enc == nil {
		enc, err := d.dev.CreateCommandEncoder(nil)
		if err != nil {
			return fmt.Errorf("gpu: create command encoder: %w", err)
		}
		d.enc = enc
	}
	if d.pass == nil {
		d.pass = d.enc.BeginComputePass(nil)
	}
	return nil
}

// copyEncoder opens the batch's encoder if needed and closes its compute
// pass, so that a copy can be recorded after the dispatches.
func (d *Device) copyEncoder() error {
	if err := d.begin(); err != nil {
		return err
	}
	return d.endPass()
}

// endPass closes the compute pass, so that copies can be recorded.
func (d *Device) endPass() error {
	if d.pass == nil {
		return nil
	}
	err := endComputePass(d.pass)
	// wgpu-native needs the pass released before the encoder finishes
	// (https://github.com/gfx-rs/wgpu-native/issues/412).
	d.pass.Release()
	d.pass = nil
	if err != nil {
		return fmt.Errorf("gpu: end compute pass: %w", err)
	}
	return nil
}

// Flush submits the pending batch of dispatches and copies, if any. Reads,
// writes and Dot flush on their own; callers need it only to start work
// early.
func (d *Device) Flush() error {
	if d.enc == nil {
		return nil
	}
	if err := d.endPass(); err != nil {
		d.dropBatch()
		return err
	}
	if len(d.paramBytes) > 0 {
		// The queue orders this write before the submission below, and
		// after every earlier one, so each batch sees its own blocks.
		if err := queueWrite(d.queue, d.params, 0, d.paramBytes); err != nil {
			d.dropBatch()
			return fmt.Errorf("gpu: upload kernel params: %w", err)
		}
	}
	cmd, err := d.enc.Finish(nil)
	d.enc.Release()
	d.enc = nil
	d.paramBytes = d.paramBytes[:0]
	if err != nil {
		return fmt.Errorf("gpu: finish commands: %w", err)
	}
	d.queue.Submit(cmd)
	d.submits++
	cmd.Release()
	return nil
}

// dropBatch abandons the pending batch after an error.
func (d *Device) dropBatch() {
	if d.pass != nil {
		endComputePass(d.pass) // the batch is dropped with its errors
		d.pass.Release()
		d.pass = nil
	}
	if d.enc != nil {
		d.enc.Release()
		d.enc = nil
	}
	d.paramBytes = d.paramBytes[:0]
}
