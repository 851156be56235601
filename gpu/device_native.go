//go:build !js

package gpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"
)

// openAdapter opens a device through wgpu-native.
//
// Only the primary backends (Vulkan, Metal, DX12) are enabled: wgpu-native's
// OpenGL backend aborts the process inside instance creation when EGL is
// half-installed (wgpu-hal gles/egl.rs unwraps a missing display), which
// no caller could recover from.
func openAdapter() (handles, error) {
	inst := createInstance(wgpu.InstanceBackendPrimary)
	ad, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: wgpu.PowerPreferenceHighPerformance})
	if err != nil {
		ad, err = inst.RequestAdapter(nil)
	}
	if err != nil {
		inst.Release()
		return handles{}, fmt.Errorf("%w: %v", ErrNoAdapter, err)
	}
	// Buffers as large as the adapter allows: a real GPU then evaluates
	// far more tiles per batch than WebGPU's default 128 MiB binding
	// holds (TileBatchBytes).
	lim := wgpu.DefaultLimits()
	sup := ad.GetLimits().Limits
	lim.MaxStorageBufferBindingSize, lim.MaxBufferSize = sup.MaxStorageBufferBindingSize, sup.MaxBufferSize
	dev, err := ad.RequestDevice(&wgpu.DeviceDescriptor{RequiredLimits: &wgpu.RequiredLimits{Limits: lim}})
	if err != nil {
		ad.Release()
		inst.Release()
		return handles{}, fmt.Errorf("gpu: request device: %w", err)
	}
	info := ad.GetInfo()
	return handles{instance: inst, adapter: ad, dev: dev, name: adapterName(info),
		fallback: info.AdapterType == wgpu.AdapterTypeCPU || IsSoftware(info.Name, info.DriverDescription)}, nil
}

// adapterName describes an adapter. wgpu-native reports Vulkan drivers'
// names in the driver description; the device name is a PCI id ("0x0" for
// lavapipe).
func adapterName(info wgpu.AdapterInfo) string {
	name := info.DriverDescription
	if name == "" {
		name = info.Name
	}
	return fmt.Sprintf("%s (%s, %s)", name, info.AdapterType, info.BackendType)
}

// defaultTileBatchBytes is TileBatchBytes's default natively: about what
// the CPU reference keeps of a whole photo's activations (48 tiles).
const defaultTileBatchBytes = 1 << 30

// queueWrite copies data into buf at byte offset off through q.
func queueWrite(q *wgpu.Queue, buf *wgpu.Buffer, off uint64, data []byte) error {
	return q.WriteBuffer(buf, off, data)
}
