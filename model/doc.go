// Package model reads Conjure's safetensors weight files and runs the score
// network ε_θ(x, τ) on the CPU in float32: the forward pass and its
// vector–Jacobian product with respect to x.
//
// It is the reference the GPU kernels are tested against, so it is written
// to be plain rather than fast: direct loops, parallel over output channels.
// The network is defined exactly in docs/NETWORK.md; the names in this
// package (Config fields, tensor names, block order) follow that page.
//
// A Model comes from Load or Read (a weight file) or from NewRandom (random
// weights for tests); a Runner made by Model.NewRunner evaluates it and
// satisfies cpu.Network.
//
// # Layout
//
// Images and activations are planar float32 tensors without a batch axis: a
// tensor of C channels and H×W pixels has C·H·W elements, and element
// (c, i, j) sits at offset c·H·W + i·W + j. The network's input and output
// have C = Config.InChannels and H = W = Config.Resolution. Parameters keep
// PyTorch's layouts: conv weights (out, in, kh, kw), linear weights
// (out, in), so weight (o, c, ky, kx) sits at ((o·in + c)·kh + ky)·kw + kx.
//
// # Invariants
//
//   - A Model is read-only once made: it may be shared by any number of
//     goroutines and Runners. Slices returned by its accessors share its
//     storage and must not be modified.
//   - A Runner holds the activations of its latest Eps call, which VJP needs,
//     and is not safe for concurrent use; make one Runner per goroutine.
//   - Eps and VJP write only dst and never retain the slices passed to them.
//     Wrong lengths, or VJP before any Eps, are programmer errors and panic
//     with a message prefixed "model: ".
//   - The time embedding depends on τ only, so VJP is the derivative with
//     respect to x alone.
//   - Inside the network every value is float32; GroupNorm statistics and
//     softmax normalisers are accumulated in float64.
//
// # Weight files
//
// Read checks every size in the header against the file length before it
// allocates anything: the header is at most MaxHeaderSize bytes, tensors
// must tile the data section exactly, and every tensor the config requires
// must be present with its NETWORK.md shape and dtype, with no extras.
// Malformed files give a *FormatError, configs that break NETWORK.md's rules
// a *ConfigError (wrapped in a *FormatError when found inside a file), and
// Load wraps everything in a *LoadError naming the path.
package model
