//go:build !js

package gpu

import (
	"syscall"
	"testing"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// cpuTime returns the CPU time this process has used: on a software
// adapter such as lavapipe the kernels run on the process's own threads,
// so it measures their work even when other processes compete for the
// cores and wall time does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConv3x3 times the 3×3 convolutions of the shipped model's
// largest level (32 channels at 64×64, 64 at 32×32) in each variant, and
// reports the rate in wall time (GFLOP/s) and in process CPU time
// (GFLOP/cpu-s, the figure to compare on a shared machine).
func BenchmarkConv3x3(b *testing.B) {
	for _, g := range []struct {
		name            string
		c, side, stride int
		up, vjp         bool
	}{
		{"fwd/s1/c=32,64x64", 32, 64, 1, false, false},
		{"vjp/s1/c=32,64x64", 32, 64, 1, false, true},
		{"fwd/s1/c=64,32x32", 64, 32, 1, false, false},
		{"fwd/s2/c=32,64x64", 32, 64, 2, false, false},
		{"vjp/s2/c=32,64x64", 32, 64, 2, false, true},
		{"fwd/up/c=64,32x32", 64, 32, 1, true, false},
		{"vjp/up/c=64,32x32", 64, 32, 1, true, true},
	} {
		b.Run(g.name, func(b *testing.B) {
			d := testDevice(b)
			c, _, _ := testConv(b, d, g.c, g.c, 3)
			p := conv3x3Params(c, 1, g.side, g.side, g.stride, g.up)
			x, err := d.NewBuffer(g.c * g.side * g.side)
			if err != nil {
				b.Fatal(err)
			}
			defer x.Destroy()
			y, err := d.NewBuffer(g.c * int(p.Ho*p.Wo))
			if err != nil {
				b.Fatal(err)
			}
			defer y.Destroy()
			run := func() {
				if g.vjp {
					must(d.conv3x3VJP(c, x, y, 1, g.side, g.side, g.stride, g.up))
				} else {
					must(d.conv3x3(c, y, x, nil, 1, g.side, g.side, g.stride, g.up))
				}
			}
			run()
			must(y.readInto(1, func([]float32) {}))
			cpu0, wall0 := cpuTime(), time.Now()
			b.ResetTimer()
			for range b.N {
				run()
				must(y.readInto(1, func([]float32) {}))
			}
			flops := 2 * 9 * float64(g.c*g.c) * float64(p.Ho*p.Wo) * float64(b.N)
			b.ReportMetric(flops/time.Since(wall0).Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(flops/(cpuTime()-cpu0).Seconds()/1e9, "GFLOP/cpu-s")
		})
	}
}

// loadPathsWGSL sums 4096 vec4s per invocation, read from a storage buffer
// (loads_storage) or from an rgba32float texture (loads_texture) at the
// same scattered positions.
const loadPathsWGSL = `
@group(0) @binding(0) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var tex: texture_2d<f32>;

@compute @workgroup_size(64)
fn loads_storage(@builtin(global_invocation_id) gid: vec3<u32>) {
    var acc = vec4(0.0);
    for (var i = 0u; i < 4096u; i++) {
        acc += src[(gid.x * 7u + i * 64u) % 65536u];
    }
    dst[gid.x] = acc;
}

@compute @workgroup_size(64)
fn loads_texture(@builtin(global_invocation_id) gid: vec3<u32>) {
    var acc = vec4(0.0);
    for (var i = 0u; i < 4096u; i++) {
        let j = (gid.x * 7u + i * 64u) % 65536u;
        acc += textureLoad(tex, vec2<i32>(i32(j % 256u), i32(j / 256u)), 0);
    }
    dst[gid.x] = acc;
}
`

// BenchmarkLoadPaths measures what a loaded float32 costs per invocation
// through a storage buffer and through a texture: on lavapipe 22.3 the
// first is a loop over the SIMD lanes, the second its SIMD texel fetch
// (docs/PERFORMANCE.md). It reports CPU ns per element per invocation.
func BenchmarkLoadPaths(b *testing.B) {
	d := testDevice(b)
	check := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	mod, err := d.dev.CreateShaderModule(&wgpu.ShaderModuleDescriptor{WGSLDescriptor: &wgpu.ShaderModuleWGSLDescriptor{Code: loadPathsWGSL}})
	check(err)
	defer mod.Release()
	bgl, err := d.dev.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Entries: []wgpu.BindGroupLayoutEntry{
		{Binding: 0, Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeStorage}},
		{Binding: 1, Visibility: wgpu.ShaderStageCompute, Buffer: wgpu.BufferBindingLayout{Type: wgpu.BufferBindingTypeReadOnlyStorage}},
		{Binding: 2, Visibility: wgpu.ShaderStageCompute, Texture: wgpu.TextureBindingLayout{
			SampleType: wgpu.TextureSampleTypeUnfilterableFloat, ViewDimension: wgpu.TextureViewDimension2D}},
	}})
	check(err)
	defer bgl.Release()
	layout, err := d.dev.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{BindGroupLayouts: []*wgpu.BindGroupLayout{bgl}})
	check(err)
	defer layout.Release()
	tex, err := d.dev.CreateTexture(&wgpu.TextureDescriptor{
		Usage: wgpu.TextureUsageTextureBinding | wgpu.TextureUsageCopyDst, Dimension: wgpu.TextureDimension2D,
		Size:   wgpu.Extent3D{Width: 256, Height: 256, DepthOrArrayLayers: 1},
		Format: wgpu.TextureFormatRGBA32Float, MipLevelCount: 1, SampleCount: 1,
	})
	check(err)
	defer tex.Release()
	view, err := tex.CreateView(nil)
	check(err)
	defer view.Release()
	const groups, perInvocation = 64, 4096
	dst, err := d.NewBuffer(4 * 64 * groups)
	check(err)
	defer dst.Destroy()
	src, err := d.NewBuffer(4 * 65536)
	check(err)
	defer src.Destroy()
	bg, err := d.dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Layout: bgl, Entries: []wgpu.BindGroupEntry{
		{Binding: 0, Buffer: dst.buf, Size: wgpu.WholeSize},
		{Binding: 1, Buffer: src.buf, Size: wgpu.WholeSize},
		{Binding: 2, TextureView: view},
	}})
	check(err)
	defer bg.Release()
	for _, entry := range []string{"loads_storage", "loads_texture"} {
		b.Run(entry, func(b *testing.B) {
			cp, err := d.dev.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{
				Layout: layout, Compute: wgpu.ProgrammableStageDescriptor{Module: mod, EntryPoint: entry}})
			check(err)
			defer cp.Release()
			run := func() {
				enc, err := d.dev.CreateCommandEncoder(nil)
				check(err)
				pass := enc.BeginComputePass(nil)
				pass.SetPipeline(cp)
				pass.SetBindGroup(0, bg, nil)
				pass.DispatchWorkgroups(groups, 1, 1)
				check(endComputePass(pass))
				pass.Release()
				cmd, err := enc.Finish(nil)
				check(err)
				enc.Release()
				d.queue.Submit(cmd)
				cmd.Release()
				check(dst.readInto(1, func([]float32) {}))
			}
			run()
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				run()
			}
			elements := float64(b.N) * groups * 64 * perInvocation * 4
			b.ReportMetric(float64(cpuTime()-cpu0)/elements, "cpu-ns/element")
		})
	}
}
