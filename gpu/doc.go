// Package gpu is Conjure's WebGPU runtime on cogentcore/webgpu: the
// device, float32 storage buffers, a cache of compute pipelines built from
// the WGSL of package shaders, the kernels for linear combinations, dot
// products and every map of the operators of package operator, Net, the
// score network of package model on the device (convolutions with int8
// weights, GroupNorm, attention, each forward and VJP), and Backend, which
// runs the samplers of package sampler on the GPU.
//
// # Invariants
//
// Vectors live on the device as float32 in the planar layout of package
// operator: element (c, i, j) of a C×H×W image sits at offset
// c·H·W + i·W + j. Write converts from float64 and Read back to it; scalars
// (coefficients, τ, variances) stay float64 on the CPU and are rounded to
// float32 only as kernel uniforms. Results therefore match the float64 CPU
// backend to float32 round-off, not bit for bit.
//
// Kernels write only their dst buffer, never their sources, except the
// network's kernels that keep what a VJP needs: groupnorm_fwd also writes
// each group's statistics, attention_fwd its softmax weights and
// attention_vjp_q its scratch rows. Combine's dst may alias a source;
// every other dst must be distinct from its sources.
//
// Work is recorded into one pending command encoder per Device and
// submitted in a single batch when something must come back to the CPU or
// be ordered against a host write: Buffer.Read, Dot, Buffer.Write, and
// Flush. Nothing else waits. Read returns the buffer's contents after all
// work recorded before it; Dot reads back one float32 partial sum per
// workgroup and adds them in float64.
//
// Buffers, pipelines and bind groups are reused: after its first step a
// sampler allocates no device memory. Device memory is freed explicitly
// (Buffer.Destroy, Backend.Forget, Device.Close), never by the garbage
// collector, because Release does nothing in the browser.
//
// Bind-group layouts are explicit (the js backend has no automatic
// layouts), each kernel binds at most 8 storage buffers and uses 64
// invocations per workgroup, within the limits every WebGPU device grants.
// No dispatch binds one buffer twice where either binding is writable:
// browsers reject it, though wgpu-native accepts it (combine_fwd reads a
// dst that is also a summand through dst's own binding).
//
// A Device, its Buffers and a Backend are not safe for concurrent use.
package gpu
