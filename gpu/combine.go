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
	CSelf      float32 // coefficient of dst's own old value, when HasSelf
	HasSelf    uint32  // 1 when dst is one of the summands
	C0, C1, C2 float32
	C3, C4, C5 float32
	C6         float32
	Pad        uint32
}

// combineFwd binds dst writable and the summands read-only: Chromium
// refuses a dispatch that binds one buffer twice when either binding is
// writable, so a summand that is dst itself is read through dst's binding
// (Params.CSelf) and the unused bindings repeat a read-only summand.
var combineFwd = &kernel{
	file: "combine.wgsl", entry: "combine_fwd", wg: defaultWG,
	storage: []access{readWrite, readOnly, readOnly, readOnly, readOnly, readOnly, readOnly, readOnly},
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
		var chunk []sampler.Term
		if !first {
			chunk = append(chunk, sampler.Term{C: 1, V: acc})
		}
		for len(chunk) < maxTerms && len(terms) > 0 {
			if v := buffer(terms[0].V); v.n != dst.n {
				panic(fmt.Sprintf("gpu: combine: term of length %d, dst of %d", v.n, dst.n))
			}
			chunk, terms = append(chunk, terms[0]), terms[1:]
		}
		out := acc
		if len(terms) == 0 {
			out = dst
		}
		if err := d.combineChunk(out, chunk); err != nil {
			return err
		}
		first = false
	}
	return nil
}

// combineChunk records out = Σ cᵢ·vᵢ for at most maxTerms summands, some of
// which may share out's storage.
func (d *Device) combineChunk(out *Buffer, chunk []sampler.Term) error {
	var p combineParams
	cs := [maxTerms]*float32{&p.C0, &p.C1, &p.C2, &p.C3, &p.C4, &p.C5, &p.C6}
	var self float64
	bufs := []*Buffer{out}
	for _, t := range chunk {
		if v := buffer(t.V); v.buf != out.buf {
			*cs[len(bufs)-1] = float32(t.C)
			bufs = append(bufs, v)
			continue
		}
		self += t.C
		p.HasSelf = 1
	}
	p.N, p.Terms, p.CSelf = uint32(out.n), uint32(len(bufs)-1), float32(self)
	filler := d.blank
	if len(bufs) > 1 {
		filler = bufs[1]
	} else if filler == nil {
		var err error
		if filler, err = d.NewBuffer(1); err != nil {
			return err
		}
		d.blank = filler
	}
	for len(bufs) < 1+maxTerms {
		bufs = append(bufs, filler)
	}
	g, err := d.grid(out.n, combineFwd.wg)
	if err != nil {
		return err
	}
	return dispatch(d, combineFwd, g, &p, bufs...)
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
