package gpu

import (
	"errors"
	"fmt"

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
	info     wgpu.AdapterInfo
	limits   wgpu.Limits

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

	submits int // batches submitted, for tests of batching

	staging     *wgpu.Buffer // map-read buffer for readback, grown on demand
	stagingSize uint64
	f32         []float32 // conversion scratch for Write and Read
	buffers     map[*Buffer]struct{}
}

// Open requests a high-performance adapter, falling back to any adapter
// (such as lavapipe's software Vulkan), and opens a device with the
// adapter's default limits. It returns ErrNoAdapter, wrapped, when there is
// none.
//
// Only the primary backends (Vulkan, Metal, DX12) are enabled: wgpu-native's
// OpenGL backend aborts the process inside instance creation when EGL is
// half-installed (wgpu-hal gles/egl.rs unwraps a missing display), which
// no caller could recover from.
func Open() (*Device, error) {
	inst := wgpu.CreateInstance(&wgpu.InstanceDescriptor{Backends: wgpu.InstanceBackendPrimary})
	ad, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: wgpu.PowerPreferenceHighPerformance})
	if err != nil {
		ad, err = inst.RequestAdapter(nil)
	}
	if err != nil {
		inst.Release()
		return nil, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	dev, err := ad.RequestDevice(nil)
	if err != nil {
		ad.Release()
		inst.Release()
		return nil, fmt.Errorf("gpu: request device: %w", err)
	}
	d := &Device{
		instance:   inst,
		adapter:    ad,
		dev:        dev,
		queue:      dev.GetQueue(),
		info:       ad.GetInfo(),
		limits:     dev.GetLimits().Limits,
		modules:    map[moduleKey]*wgpu.ShaderModule{},
		pipelines:  map[pipelineKey]*pipeline{},
		bindGroups: map[bindKey]*wgpu.BindGroup{},
		buffers:    map[*Buffer]struct{}{},
	}
	d.maxGroups = d.limits.MaxComputeWorkgroupsPerDimension
	d.slot = max(256, uint64(d.limits.MinUniformBufferOffsetAlignment))
	d.paramBytes = make([]byte, 0, paramsSlots*d.slot)
	d.params, err = dev.CreateBuffer(&wgpu.BufferDescriptor{
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
// (cpu, vulkan)". wgpu-native reports Vulkan drivers' names in the driver
// description; the device name is a PCI id ("0x0" for lavapipe).
func (d *Device) Name() string {
	name := d.info.DriverDescription
	if name == "" {
		name = d.info.Name
	}
	return fmt.Sprintf("%s (%s, %s)", name, d.info.AdapterType, d.info.BackendType)
}

// Limits returns the device's limits, recorded when it was opened.
func (d *Device) Limits() wgpu.Limits { return d.limits }

// Close submits nothing more, waits for the device to finish, and frees
// every buffer, pipeline and the device itself. The Device and its Buffers
// must not be used afterwards; closing again does nothing.
func (d *Device) Close() {
	if d.instance == nil {
		return
	}
	d.dropBatch()
	if d.dev != nil {
		d.dev.Poll(true, nil)
	}
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
	if d.dev != nil {
		d.dev.Release()
	}
	d.adapter.Release()
	d.instance.Release()
	*d = Device{}
}
