//go:build !js

package gpu

/*
#include <stdint.h>
#include <string.h>

// The parts of wgpu-native's webgpu.h and wgpu.h (as shipped with
// cogentcore/webgpu v0.23.0) that createInstance needs.
typedef struct chained { const struct chained *next; uint32_t sType; } chained;
typedef struct instanceExtras {
	chained chain;
	uint32_t backends, flags, dx12ShaderCompiler, gles3MinorVersion;
	const char *dxilPath, *dxcPath;
} instanceExtras;
typedef struct instanceDescriptor { const chained *nextInChain; } instanceDescriptor;
enum { sTypeInstanceExtras = 0x00030006 };

void *wgpuCreateInstance(const instanceDescriptor *descriptor);

// createInstance creates a wgpu-native instance limited to backends, every
// other option zero.
static void *createInstance(uint32_t backends) {
	instanceExtras extras;
	memset(&extras, 0, sizeof extras);
	extras.chain.sType = sTypeInstanceExtras;
	extras.backends = backends;
	instanceDescriptor desc = { &extras.chain };
	return wgpuCreateInstance(&desc);
}
*/
import "C"

import (
	"unsafe"

	"github.com/cogentcore/webgpu/wgpu"
)

// createInstance returns a wgpu-native instance limited to backends.
//
// It replaces wgpu.CreateInstance, which in cogentcore/webgpu v0.23.0
// mallocs the WGPUInstanceExtras it chains and sets only its header,
// backends and DX12 compiler, leaving flags, gles3MinorVersion and the
// DXIL/DXC path pointers to whatever the heap held: wgpu-native then
// aborts the process ("Unknown gles3 minor version") when that is
// garbage, which grows likelier the more a process has used the heap.
// Here the extras are zeroed. wgpu.Instance has a single field, the
// WGPUInstance handle, which is set through unsafe since the binding has
// no constructor from a handle.
func createInstance(backends wgpu.InstanceBackend) *wgpu.Instance {
	ref := C.createInstance(C.uint32_t(backends))
	if ref == nil {
		panic("gpu: wgpu-native failed to create an instance") // as wgpu.CreateInstance does
	}
	inst := &wgpu.Instance{}
	*(*unsafe.Pointer)(unsafe.Pointer(inst)) = ref
	return inst
}

// wgpu.Instance must be the bare handle that createInstance sets: this
// constant index is out of range, and fails to compile, otherwise.
var _ = [1]struct{}{}[unsafe.Sizeof(wgpu.Instance{})-unsafe.Sizeof(unsafe.Pointer(nil))]
