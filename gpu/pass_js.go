//go:build js

package gpu

import "github.com/cogentcore/webgpu/wgpu"

// endComputePass ends p. The js binding's End returns nothing: the browser
// reports validation errors asynchronously, and the binding has no error
// scopes, so there is nothing to return here.
func endComputePass(p *wgpu.ComputePassEncoder) error {
	p.End()
	return nil
}
