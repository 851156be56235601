package gpu

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cogentcore/webgpu/wgpu"
)

// ErrNoAdapter is returned by Open when the machine offers no WebGPU
// adapter (no GPU and no software Vulkan such as Mesa's lavapipe). Callers
// fall back to the CPU backend; tests skip, except in CI.
var ErrNoAdapter = errors.New("gpu: no WebGPU adapter")

// paramsSlots is the number of kernel parameter blocks one batch of
// dispatches may hold before it is submitted.
const paramsSlots = 512

// Device is an open WebGPU device with its queue, pipeline cache and the
// batch of recorded but not yet submitted dispatches. It is not safe for
// concurrent use.
type Device struct {
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	dev      *wgpu.Device
	queue    *wgpu.Queue
	name     string
	fallback bool // a software adapter (Fallback)
	limits   wgpu.Limits

	// lastError returns the first error the device reported on its own
	// (js: uncaptured validation errors and device loss, which the browser
	// reports asynchronously); nil where calls report errors themselves.
	lastError func() error

	// maxGroups is the number of workgroups a dispatch may have along one
	// dimension: the device limit, lowered by tests to exercise folding.
	maxGroups uint32

	modules    map[moduleKey]*wgpu.ShaderModule
	pipelines  map[pipelineKey]*pipeline
	bindGroups map[bindKey]*wgpu.BindGroup

	// The pending batch: an open encoder (and compute pass) and the
	// parameter blocks its dispatches read at dynamic offsets of params,
	// uploaded in one write just before the batch is submitted.
	enc        *wgpu.CommandEncoder
	pass       *wgpu.ComputePassEncoder
	params     *wgpu.Buffer
	paramBytes []byte
	slot       uint64 // bytes between parameter blocks (≥ 256, the offset alignment)

	// blank fills combine_fwd's unused input bindings when it has no
	// input other than dst; made on first use.
	blank *Buffer

	submits int // batches submitted, for tests of batching

	// trace, when set, collects every dispatch recorded, for Net.Profile.
	trace *[]traced

	staging     *wgpu.Buffer // map-read buffer for readback, grown on demand
	stagingSize uint64
	f32         []float32 // conversion scratch for Write and Read
	buffers     map[*Buffer]struct{}
}

// handles are what the platform's openAdapter obtains for Open: the
// instance and adapter (nil in the browser, where only the device is
// kept), the device, a description of the adapter, and the device's own
// error report (nil natively, where calls return errors themselves).
type handles struct {
	instance  *wgpu.Instance
	adapter   *wgpu.Adapter
	dev       *wgpu.Device
	name      string
	fallback  bool
	lastError func() error
}

// Open requests a high-performance adapter, falling back to any adapter
// (such as lavapipe's software Vulkan natively), and opens a device with
// the adapter's default limits. It returns ErrNoAdapter, wrapped, when there
// is none.
func Open() (*Device, error) {
	h, err := openAdapter()
	if err != nil {
		return nil, err
	}
	d := &Device{
		instance:   h.instance,
		adapter:    h.adapter,
		dev:        h.dev,
		queue:      h.dev.GetQueue(),
		name:       h.name,
		fallback:   h.fallback,
		lastError:  h.lastError,
		limits:     h.dev.GetLimits().Limits,
		modules:    map[moduleKey]*wgpu.ShaderModule{},
		pipelines:  map[pipelineKey]*pipeline{},
		bindGroups: map[bindKey]*wgpu.BindGroup{},
		buffers:    map[*Buffer]struct{}{},
	}
	d.maxGroups = d.limits.MaxComputeWorkgroupsPerDimension
	d.slot = max(256, uint64(d.limits.MinUniformBufferOffsetAlignment))
	d.paramBytes = make([]byte, 0, paramsSlots*d.slot)
	d.params, err = d.dev.CreateBuffer(&wgpu.BufferDescriptor{
		Label: "kernel params",
		Size:  paramsSlots * d.slot,
		Usage: wgpu.BufferUsageUniform | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("gpu: create params buffer: %w", err)
	}
	return d, nil
}

// Name describes the adapter, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)
// (cpu, vulkan)" natively or "google swiftshader (webgpu)" in a browser.
func (d *Device) Name() string { return d.name }

// Fallback reports whether the adapter runs on the CPU in software
// (SwiftShader in a browser, lavapipe natively): WebGPU there is slower
// than the CPU backend's own kernels, so a caller choosing for a person
// prefers the CPU.
func (d *Device) Fallback() bool { return d.fallback }

// IsSoftware reports whether an adapter described by these strings (its
// vendor, architecture, description or driver name) is a software
// rasterizer: SwiftShader, lavapipe or llvmpipe. Browsers that drop
// GPUAdapterInfo.isFallbackAdapter still name SwiftShader here.
func IsSoftware(desc ...string) bool {
	for _, d := range desc {
		d = strings.ToLower(d)
		for _, name := range []string{"swiftshader", "lavapipe", "llvmpipe"} {
			if strings.Contains(d, name) {
				return true
			}
		}
	}
	return false
}

// Limits returns the device's limits, recorded when it was opened.
func (d *Device) Limits() wgpu.Limits { return d.limits }

// Close submits nothing more, waits for the device to finish, and frees
// every buffer, pipeline and the device itself. The Device and its Buffers
// must not be used afterwards; closing again does nothing.
func (d *Device) Close() {
	if d.dev == nil {
		return
	}
	d.dropBatch()
	d.dev.Poll(true, nil)
	for b := range d.buffers {
		b.free()
	}
	for _, bg := range d.bindGroups {
		bg.Release()
	}
	for _, p := range d.pipelines {
		p.release()
	}
	for _, m := range d.modules {
		m.Release()
	}
	for _, b := range []*wgpu.Buffer{d.params, d.staging} {
		if b != nil {
			b.Destroy()
			b.Release()
		}
	}
	if d.queue != nil {
		d.queue.Release()
	}
	d.dev.Release()
	if d.adapter != nil {
		d.adapter.Release()
	}
	if d.instance != nil {
		d.instance.Release()
	}
	*d = Device{}
}
