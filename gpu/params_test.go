package gpu

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"conjure/shaders"
)

// paramsOf maps each WGSL file to the Go struct mirroring its Params.
var paramsOf = map[string]reflect.Type{
	"combine.wgsl":   reflect.TypeFor[combineParams](),
	"dot.wgsl":       reflect.TypeFor[dotParams](),
	"grouped.wgsl":   reflect.TypeFor[groupedParams](),
	"separable.wgsl": reflect.TypeFor[separableParams](),
	"conv.wgsl":      reflect.TypeFor[convParams](),
	"groupnorm.wgsl": reflect.TypeFor[groupnormParams](),
	"attention.wgsl": reflect.TypeFor[attentionParams](),
	"gemm.wgsl":      reflect.TypeFor[gemmParams](),
	"tiled.wgsl":     reflect.TypeFor[tiledParams](),
}

var (
	structParams = regexp.MustCompile(`(?s)struct Params \{(.*?)\n\}`)
	field        = regexp.MustCompile(`(?m)^\s*(\w+)\s*:\s*(\w+),`)
	binding      = regexp.MustCompile(`@group\(0\) @binding\((\d+)\) var<(storage, read_write|storage, read|uniform)> (\w+)`)
)

// TestParamsMirrorWGSL checks, without a device, that every Go Params
// struct matches its WGSL struct field for field (names, 4-byte types,
// offsets, a size that is a multiple of 16 as uniform blocks want), and
// that every kernel descriptor's bindings, params size and entry point
// match its file.
func TestParamsMirrorWGSL(t *testing.T) {
	files, err := filepath.Glob("../shaders/*.wgsl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no WGSL files: %v", err)
	}
	wgslType := map[string]reflect.Kind{"u32": reflect.Uint32, "i32": reflect.Int32, "f32": reflect.Float32}
	for _, f := range files {
		name := filepath.Base(f)
		src, err := shaders.Source(name)
		if err != nil {
			t.Fatal(err)
		}
		goType, ok := paramsOf[name]
		if !ok {
			t.Errorf("%s: no Go Params mirror", name)
			continue
		}
		m := structParams.FindStringSubmatch(src)
		if m == nil {
			t.Errorf("%s: no struct Params", name)
			continue
		}
		fields := field.FindAllStringSubmatch(m[1], -1)
		if len(fields) != goType.NumField() {
			t.Errorf("%s: WGSL Params has %d fields, %v has %d", name, len(fields), goType, goType.NumField())
			continue
		}
		for i, wf := range fields {
			gf := goType.Field(i)
			if !strings.EqualFold(gf.Name, wf[1]) || gf.Type.Kind() != wgslType[wf[2]] || gf.Offset != uintptr(4*i) {
				t.Errorf("%s: field %d is %s: %s in WGSL, %s %v at offset %d in Go", name, i, wf[1], wf[2], gf.Name, gf.Type, gf.Offset)
			}
		}
		if goType.Size()%16 != 0 || goType.Size() != uintptr(4*len(fields)) {
			t.Errorf("%s: Params is %d bytes, want 4·%d, a multiple of 16", name, goType.Size(), len(fields))
		}
	}
	for _, k := range append(append(kernels[:len(kernels):len(kernels)], netKernels...), gemmFwd, tileCut, tileBlend) {
		src, err := shaders.Source(k.file)
		if err != nil {
			t.Fatal(err)
		}
		if uintptr(k.params) != paramsOf[k.file].Size() {
			t.Errorf("%s: descriptor says %d params bytes, %v has %d", k.entry, k.params, paramsOf[k.file], paramsOf[k.file].Size())
		}
		if !strings.Contains(src, "@compute @workgroup_size(WG)\nfn "+k.entry+"(") {
			t.Errorf("%s: no entry point with @workgroup_size(WG) in %s", k.entry, k.file)
		}
		bs := binding.FindAllStringSubmatch(src, -1)
		if len(bs) != len(k.storage)+1 {
			t.Errorf("%s: %s declares %d bindings, descriptor %d + params", k.entry, k.file, len(bs), len(k.storage))
			continue
		}
		for i, b := range bs {
			want := "uniform"
			switch {
			case i < len(k.storage) && k.storage[i] == readWrite:
				want = "storage, read_write"
			case i < len(k.storage):
				want = "storage, read"
			}
			if n, _ := strconv.Atoi(b[1]); n != i || b[2] != want {
				t.Errorf("%s: binding %s (%s) is var<%s>, descriptor wants binding %d var<%s>", k.entry, b[1], b[3], b[2], i, want)
			}
		}
	}
}
