package gpu

import (
	"fmt"

	"github.com/cogentcore/webgpu/wgpu"

	"conjure/operator"
	"conjure/sampler"
)

// groupedParams mirrors struct Params of shaders/grouped.wgsl.
type groupedParams struct {
	N, K  uint32
	Scale float32
	Pad0  uint32
}

// The three kernels of shaders/grouped.wgsl share one layout: dst, src,
// the group table and the member table (each entry point reads what it
// needs).
var (
	groupedStorage = []access{readWrite, readOnly, readOnly, readOnly}
	groupedFwd     = &kernel{file: "grouped.wgsl", entry: "grouped_fwd", wg: defaultWG, storage: groupedStorage, params: 16}
	groupedAdj     = &kernel{file: "grouped.wgsl", entry: "grouped_adj", wg: defaultWG, storage: groupedStorage, params: 16}
	groupedProj    = &kernel{file: "grouped.wgsl", entry: "grouped_proj", wg: defaultWG, storage: groupedStorage, params: 16}
)

// grouper is an operator whose measurements are means of disjoint groups
// of image entries (operator.Inpaint, BoxSR, Gray).
type grouper interface {
	operator.Operator
	Groups() []int32
}

// grouped is a grouper's tables on the device.
type grouped struct {
	in, out, k int
	groups     *Buffer // groups[i]: the measurement entry i feeds, or −1
	members    *Buffer // members[o·k + t]: the entries of group o, ascending
}

// newGrouped uploads op's group table and its inverse. Every group must
// have the same size k, as the operator package guarantees.
func newGrouped(d *Device, op grouper) (*grouped, error) {
	table := op.Groups()
	out := op.Out()
	count := make([]int, out)
	for _, o := range table {
		if o >= 0 {
			count[o]++
		}
	}
	k := count[0]
	for o, c := range count {
		if c != k {
			return nil, fmt.Errorf("gpu: %T: group %d has %d members, group 0 has %d", op, o, c, k)
		}
	}
	members := make([]uint32, out*k)
	fill := make([]int, out)
	for i, o := range table {
		if o >= 0 {
			members[int(o)*k+fill[o]] = uint32(i)
			fill[o]++
		}
	}
	g := &grouped{in: op.In(), out: out, k: k}
	var err error
	if g.groups, err = d.newBufferBytes(wgpu.ToBytes(table)); err != nil {
		return nil, err
	}
	if g.members, err = d.newBufferBytes(wgpu.ToBytes(members)); err != nil {
		g.destroy()
		return nil, err
	}
	return g, nil
}

func (g *grouped) destroy() {
	for _, b := range []*Buffer{g.groups, g.members} {
		if b != nil {
			b.Destroy()
		}
	}
}

// apply records map k: sums over groups for H (scaled by 1/k), copies
// onto groups for Hᵀ (scaled by 1/k) and H†, group means for P.
func (g *grouped) apply(b *Backend, k operator.Kind, dst, src *Buffer) error {
	inv := float32(1 / float64(g.k))
	kern, scale := groupedFwd, float32(1)
	switch k {
	case operator.Forward:
		scale = inv
	case operator.Adjoint:
		kern, scale = groupedAdj, inv
	case operator.Pinv:
		kern = groupedAdj
	case operator.Project:
		kern, scale = groupedProj, inv
	default:
		panic("gpu: unknown operator kind")
	}
	grid, err := b.d.grid(dst.n, kern.wg)
	if err != nil {
		return err
	}
	p := groupedParams{N: uint32(dst.n), K: uint32(g.k), Scale: scale}
	return dispatch(b.d, kern, grid, &p, dst, src, g.groups, g.members)
}

// gain records dst = g(1/k)·src, since HHᵀ = I/k.
func (g *grouped) gain(b *Backend, dst, src *Buffer, gain func(s2 float64) float64) error {
	return b.combine(dst, sampler.Term{C: gain(1 / float64(g.k)), V: src})
}
