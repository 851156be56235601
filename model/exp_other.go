//go:build !js

package model

import "math"

// exp is math.Exp, assembly on amd64 and arm64; exp_js.go has
// WebAssembly's.
func exp(x float64) float64 { return math.Exp(x) }
