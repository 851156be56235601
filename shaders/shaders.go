// Package shaders holds Conjure's WGSL compute kernels, one file per op
// family, embedded at build time. Package gpu compiles them.
//
// # Conventions
//
// Every kernel file uses the constant WG, the workgroup size, without
// declaring it: package gpu prepends "const WG: u32 = …;" so that one file
// serves every workgroup size the device allows. Entry points are named op +
// direction (combine_fwd, grouped_adj). Tensors bind first in @group(0),
// the destination at binding 0, and the uniform `p: Params` last; sizes and
// scales are uniforms. Every entry point rebuilds its flat index from a
// dispatch that may be folded into 2-D, returns past the element count, and
// carries an index-notation comment of what it computes.
package shaders

import (
	"embed"
	"fmt"
)

//go:embed *.wgsl
var files embed.FS

// Source returns the WGSL text of the kernel file name (e.g.
// "combine.wgsl"), or an error if there is none.
func Source(name string) (string, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return "", fmt.Errorf("shaders: %w", err)
	}
	return string(b), nil
}
