package gpu_test

import (
	"testing"

	"conjure/gpu"
)

// TestIsSoftware names software adapters by their descriptions, whatever
// the case, and no hardware one.
func TestIsSoftware(t *testing.T) {
	for _, d := range []string{"Google SwiftShader", "llvmpipe (LLVM 15.0.6, 256 bits)", "lavapipe"} {
		if !gpu.IsSoftware("google", d) {
			t.Errorf("%q not recognised as software", d)
		}
	}
	for _, d := range []string{"NVIDIA H100 80GB HBM3", "Apple M2", "Intel(R) UHD Graphics 620", ""} {
		if gpu.IsSoftware(d) {
			t.Errorf("%q taken for software", d)
		}
	}
}
