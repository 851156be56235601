//go:build !js

package gpu

import "github.com/cogentcore/webgpu/wgpu"

// endComputePass ends p. Natively End reports validation errors; the js
// binding's End returns nothing and errors surface at Finish.
func endComputePass(p *wgpu.ComputePassEncoder) error { return p.End() }
