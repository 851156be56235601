package gpu

import (
	"fmt"

	"conjure/sampler"
)

// maxTerms is the number of summands one combine_fwd dispatch takes: with
// dst, the 8 storage buffers WebGPU guarantees per stage.
const maxTerms = 7

// combineParams mirrors struct Params of shaders/combine.wgsl.
type combineParams struct {
	N, Terms   uint32
	Pad0, Pad1 uint32
	C0, C1, C2 float32
	C3, C4, C5 float32
	C6         float32
	Pad2       uint32
}

var combineFwd = &kernel{
	file: "combine.wgsl", entry: "combine_fwd", wg: defaultWG,
	storage: []access{readWrite, readWrite, readWrite, readWrite, readWrite, readWrite, readWrite, readWrite},
	params:  48,
}

// dotParams mirrors struct Params of shaders/dot.wgsl.
type dotParams struct {
	N                uint32
	Pad0, Pad1, Pad2 uint32
}

var dotFwd = &kernel{
	file: "dot.wgsl", entry: "dot_fwd", wg: defaultWG,
	storage: []access{readWrite, readOnly, readOnly},
	params:  16,
}

// dotGroups is the number of workgroups (and float32 partial sums) of a
// dot product: enough to fill a large GPU, few enough to read back cheaply.
const dotGroups = 256

// combine records dst = Σ cᵢ·vᵢ, in chunks of maxTerms summands. Past one
// chunk the partial sums go to the scratch buffer tmp, so that dst, which
// may be one of the vᵢ, is written only by the last chunk.
func (d *Device) combine(dst, tmp *Buffer, terms []sampler.Term) error {
	acc := dst
	if len(terms) > maxTerms {
		acc = tmp
	}
	first := true
	for len(terms) > 0 || first {
		var vs [maxTerms]*Buffer
		var cs [maxTerms]float64
		k := 0
		if !first {
			vs[0], cs[0] = acc, 1
			k = 1
		}
		for ; k < maxTerms && len(terms) > 0; k++ {
			vs[k], cs[k] = buffer(terms[0].V), terms[0].C
			if vs[k].n != dst.n {
				panic(fmt.Sprintf("gpu: combine: term of length %d, dst of %d", vs[k].n, dst.n))
			}
			terms = terms[1:]
		}
		out := acc
		if len(terms) == 0 {
			out = dst
		}
		p := combineParams{N: uint32(dst.n), Terms: uint32(k),
			C0: float32(cs[0]), C1: float32(cs[1]), C2: float32(cs[2]), C3: float32(cs[3]),
			C4: float32(cs[4]), C5: float32(cs[5]), C6: float32(cs[6])}
		bufs := []*Buffer{out, out, out, out, out, out, out, out}
		copy(bufs[1:], vs[:k])
		g, err := d.grid(dst.n, combineFwd.wg)
		if err != nil {
			return err
		}
		if err := dispatch(d, combineFwd, g, &p, bufs...); err != nil {
			return err
		}
		first = false
	}
	return nil
}

// dot returns ⟨a, b⟩: the device reduces to dotGroups float32 partial
// sums in partial, which are read back and added in float64.
func (d *Device) dot(a, b, partial *Buffer) (float64, error) {
	p := dotParams{N: uint32(a.n)}
	groups := min(dotGroups, (a.n+int(dotFwd.wg)-1)/int(dotFwd.wg))
	if groups == 0 {
		return 0, nil
	}
	if err := dispatch(d, dotFwd, [3]uint32{uint32(groups), 1, 1}, &p, partial, a, b); err != nil {
		return 0, err
	}
	var s float64
	err := partial.readInto(groups, func(f []float32) {
		for _, v := range f {
			s += float64(v)
		}
	})
	return s, err
}
