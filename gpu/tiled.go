package gpu

import (
	"fmt"
	"math"

	"github.com/cogentcore/webgpu/wgpu"

	"conjure/model"
	"conjure/tile"
)

// tiledParams mirrors struct Params of shaders/tiled.wgsl.
type tiledParams struct {
	N, H, W, Size                  uint32
	Rows, Cols, Slots, Weighted    uint32
	RowCov, ColCov, MaxRow, MaxCol uint32
	First, Count, Accumulate, Pad0 uint32
}

// The two kernels of shaders/tiled.wgsl share one layout: dst, src, the
// index and coverage tables and the blend weights.
var (
	tiledStorage = []access{readWrite, readOnly, readOnly, readOnly}
	tileCut      = &kernel{file: "tiled.wgsl", entry: "tile_cut", wg: defaultWG, storage: tiledStorage, params: 64}
	tileBlend    = &kernel{file: "tiled.wgsl", entry: "tile_blend", wg: defaultWG, storage: tiledStorage, params: 64}
)

// noEntry pads a coverage table (NONE in shaders/tiled.wgsl).
const noEntry = math.MaxUint32

// TiledNet is ε over a whole C×H×W image from one fixed-size Net run on the
// tiles of a tile.Grid, the same map as package tile's Net with the same
// blend weights: ε(x) = Σₖ Cₖᵀ(wₖ ⊙ ε_net(Cₖ x)) and its exact transpose
// Jᵀv = Σₖ Cₖᵀ J_netᵀ(wₖ ⊙ Cₖ v). It implements Network.
//
// Everything happens on the device, and Eps and VJP never wait for it
// (each batch's Net.Eps submits the work recorded before its upload of
// the τ terms, as every Buffer.Write does, and goes on). The tiles go
// through the Net in batches of at most NetBatch, every dispatch covering
// the whole batch (NewBatchNet), so a large image keeps the device busy;
// a chunk's batches are as few as that allows and as equal as can be, so
// none is mostly empty. Per batch, tile_cut gathers Cₖ x (or wₖ ⊙ Cₖ v)
// of its tiles from the image through the grid's index tables, the Net
// evaluates them, and its results are copied into the tiles' slots of a
// chunk buffer; tile_blend
// then gives every image pixel the sum of the tiles covering it, weighted
// by wₖ for ε, in a fixed order and without atomics, from per-axis
// coverage tables that list every tile position reading each row and
// column (a reflected short side lists several positions of one tile,
// which ε weighs by 0 and the VJP needs).
//
// The Net holds one batch's activations, so VJP evaluates each batch's
// forward pass again before its backward pass, except for the batch whose
// activations the Net still holds: VJP visits the batches in the reverse
// of Eps's order and starts with the last one Eps evaluated. An image of
// one batch therefore costs what a bare Net does.
//
// The chunk buffer holds the results of all tiles (Tiles·C·Size² float32),
// or of as many as one storage binding allows (WebGPU's default is 128
// MiB; natively the adapter's own limit is requested), in which case the
// tiles are processed in chunks, each blended into the output before the
// next reuses the buffer. The Net's activations grow with its batch, which
// NewTiledNet sizes to TileBatchBytes and to the binding limit. A
// 2048×2048 RGB image in 64-pixel tiles overlapping by 16
// (tile.DefaultOverlap) has 43×43 = 1849 tiles: a 91 MB chunk, plus the
// 50 MB copy of x that VJP recomputes from, 77 kB of tables, and the Net:
// for the photo model 1.5 MB of weights and 24 MB of activations a tile,
// 263 MB in a browser's batches of 11, 1050 MB in the native default's
// batches of 44 (TestTiledMemory prints the figures), besides the
// sampler's own image vectors (C-ΠGDM: eight of 50 MB).
//
// A TiledNet is not safe for concurrent use.
type TiledNet struct {
	// Progress, if set, is called as each batch of an Eps or VJP pass is
	// recorded, with the tiles recorded in this pass and its total. It
	// counts recorded work: the device runs behind, as nothing waits for
	// it, and a callback that should show work done may wait by reading
	// any buffer back.
	Progress func(done, total int)

	d     *Device
	net   *Net
	grid  *tile.Grid
	plane int         // Size²: one channel of one tile
	c     int         // channels
	chunk int         // tiles the chunk buffer holds, a multiple of the Net's batch
	p     tiledParams // the fields every dispatch shares

	tables  *Buffer // u32: the lines' image indices, then the coverage tables
	weights *Buffer // f32: the lines' blend weights
	results *Buffer // the chunk's tile results, [C][chunk][Size²]
	x       *Buffer // the latest Eps input, for VJP's recomputation
	in, out *Buffer // one batch: the Net's input and output
	owned   []*Buffer

	tau   float64
	ready bool // Eps has run
	held  int  // the first tile of the batch whose activations the Net holds
}

// TileBatchBytes bounds the activations of the Net a TiledNet runs its
// batches of tiles through: NewTiledNet takes as many tiles per batch as
// fit, at least one and at most the image's tiles. An image whose tiles
// all fit is one batch, which VJP never evaluates again; beyond that,
// VJP recomputes the forward pass of every batch but the last. The
// default is 1 GiB natively, about what the CPU reference keeps (48
// tiles), and 256 MiB in a browser tab (defaultTileBatchBytes).
var TileBatchBytes = defaultTileBatchBytes

var _ Network = (*TiledNet)(nil)

// NewTiledNet uploads the int8 model m (as NewNet does) and the tables of
// grid g, whose tiles must be the model's Resolution, and allocates the
// chunk buffer and a Net for batches of tiles sized to TileBatchBytes,
// compiling the kernels now so that their errors surface here. A model
// with attention, not local, runs one tile at a time.
func NewTiledNet(d *Device, m *model.Model, g *tile.Grid) (*TiledNet, error) {
	cfg := m.Config()
	batch := 1
	total, largest := activationFloats(cfg)
	if cfg.Local() {
		batch = max(1, min(g.Tiles(), TileBatchBytes/(4*total)))
	}
	// Every buffer must fit one storage binding: the chunk's tiles, and
	// the batch's largest activation.
	binding := min(d.limits.MaxStorageBufferBindingSize, d.limits.MaxBufferSize)
	fit := int(binding / (4 * uint64(cfg.InChannels*g.Size*g.Size)))
	batch = max(1, min(batch, fit, int(binding/(4*uint64(largest)))))
	return newTiledNet(d, m, g, min(fit/batch, (g.Tiles()+batch-1)/batch)*batch, batch)
}

// newTiledNet is NewTiledNet with a chunk buffer of chunk tiles and a Net
// of batch tiles, chunk a multiple of batch (tests make them small to
// exercise partial batches and chunked blends).
func newTiledNet(d *Device, m *model.Model, g *tile.Grid, chunk, batch int) (*TiledNet, error) {
	cfg := m.Config()
	if g.Size != cfg.Resolution {
		return nil, fmt.Errorf("gpu: grid of %d-pixel tiles for a model of resolution %d", g.Size, cfg.Resolution)
	}
	if batch < 1 || chunk < batch {
		return nil, fmt.Errorf("gpu: a %d×%d×%d tile exceeds the device's %d bytes per storage binding",
			cfg.InChannels, g.Size, g.Size, d.limits.MaxStorageBufferBindingSize)
	}
	if chunk%batch != 0 {
		return nil, fmt.Errorf("gpu: a chunk of %d tiles in batches of %d", chunk, batch)
	}
	for _, k := range []*kernel{tileCut, tileBlend} {
		if _, err := d.pipeline(k); err != nil {
			return nil, err
		}
	}
	net, err := NewBatchNet(d, m, batch)
	if err != nil {
		return nil, err
	}
	n := &TiledNet{d: d, net: net, grid: g, plane: g.Size * g.Size, c: cfg.InChannels, chunk: chunk}
	if err := n.build(cfg.InChannels); err != nil {
		n.Destroy()
		return nil, err
	}
	return n, nil
}

// build uploads the tables and allocates the buffers.
func (n *TiledNet) build(c int) error {
	g, s := n.grid, n.grid.Size
	// Lines: the row tiles' positions first, then the column tiles'; a
	// position's flat index e = line·Size + t is what coverage lists.
	lines := append(g.Rows[:len(g.Rows):len(g.Rows)], g.Cols...)
	var index []uint32
	var weight []float32
	for _, l := range lines {
		for t := range s {
			index = append(index, uint32(l.Index[t]))
			weight = append(weight, float32(l.Weight[t]))
		}
	}
	rowCov, maxRow := coverage(g.Rows, g.H, 0, s)
	colCov, maxCol := coverage(g.Cols, g.W, len(g.Rows), s)
	n.p = tiledParams{H: uint32(g.H), W: uint32(g.W), Size: uint32(s),
		Rows: uint32(len(g.Rows)), Cols: uint32(len(g.Cols)),
		RowCov: uint32(len(index)), ColCov: uint32(len(index) + len(rowCov)),
		MaxRow: uint32(maxRow), MaxCol: uint32(maxCol)}
	var err error
	if n.tables, err = n.upload(wgpu.ToBytes(append(append(index, rowCov...), colCov...))); err != nil {
		return err
	}
	if n.weights, err = n.upload(wgpu.ToBytes(weight)); err != nil {
		return err
	}
	for _, b := range []struct {
		p   **Buffer
		len int
	}{{&n.results, n.chunk * c * n.plane}, {&n.x, c * g.H * g.W}, {&n.in, n.net.Dim()}, {&n.out, n.net.Dim()}} {
		if *b.p, err = n.d.NewBuffer(b.len); err != nil {
			return err
		}
		n.owned = append(n.owned, *b.p)
	}
	return nil
}

// upload returns a buffer of 4-byte table entries that the TiledNet owns.
func (n *TiledNet) upload(data []byte) (*Buffer, error) {
	b, err := n.d.newBufferBytes(data)
	if err != nil {
		return nil, err
	}
	n.owned = append(n.owned, b)
	return b, nil
}

// coverage returns, for each of the length image indices along an axis,
// the flat positions (first+line)·size + t of the lines ls that read it,
// in ascending order, padded with noEntry to the most any index has; and
// that most.
func coverage(ls []tile.Line, length, first, size int) ([]uint32, int) {
	at := make([][]uint32, length)
	most := 0
	for i, l := range ls {
		for t, j := range l.Index {
			at[j] = append(at[j], uint32((first+i)*size+t))
			most = max(most, len(at[j]))
		}
	}
	table := make([]uint32, 0, length*most)
	for _, es := range at {
		table = append(table, es...)
		for range most - len(es) {
			table = append(table, noEntry)
		}
	}
	return table, most
}

// Destroy frees the TiledNet's device memory, its Net's included; it must
// not be used afterwards.
func (n *TiledNet) Destroy() {
	n.net.Destroy()
	for _, b := range n.owned {
		b.Destroy()
	}
	n.owned = nil
}

// Dim returns the length of an image: C·H·W.
func (n *TiledNet) Dim() int { return n.x.n }

// NetBatch returns the tiles each Net evaluation covers.
func (n *TiledNet) NetBatch() int { return n.net.batch }

// Eps records dst = Σₖ Cₖᵀ(wₖ ⊙ ε_net(Cₖ x, τ)). Device errors panic, as
// Backend's do.
func (n *TiledNet) Eps(dst, x *Buffer, tau float64) {
	n.check("Eps", dst, x)
	must(n.eps(dst, x, tau))
}

func (n *TiledNet) eps(dst, x *Buffer, tau float64) error {
	if err := n.d.copyRange(n.x, 0, x, 0, n.x.n); err != nil {
		return err
	}
	n.tau, n.ready = tau, true
	total := n.grid.Tiles()
	for first := 0; first < total; first += n.chunk {
		count := min(n.chunk, total-first)
		for _, b := range n.batches(first, count) {
			if err := n.evaluate(b, false); err != nil {
				return err
			}
			if err := n.keep(b.first-first, b.count); err != nil {
				return err
			}
			n.progress(b.first+b.count, total)
		}
		if err := n.blend(dst, first, count, true, first > 0); err != nil {
			return err
		}
	}
	return nil
}

// VJP records dst = Σₖ Cₖᵀ J_netᵀ(wₖ ⊙ Cₖ v) at the latest Eps. Device
// errors panic, as Backend's do.
func (n *TiledNet) VJP(dst, v *Buffer) {
	if !n.ready {
		panic("gpu: TiledNet.VJP before Eps")
	}
	n.check("VJP", dst, v)
	must(n.vjp(dst, v))
}

func (n *TiledNet) vjp(dst, v *Buffer) error {
	total := n.grid.Tiles()
	last := (total - 1) / n.chunk * n.chunk
	done := 0
	for first := last; first >= 0; first -= n.chunk {
		count := min(n.chunk, total-first)
		bs := n.batches(first, count)
		for i := len(bs) - 1; i >= 0; i-- {
			b := bs[i]
			if err := n.evaluate(b, true); err != nil {
				return err
			}
			// The Net keeps no reference to its input, so in takes wₖ ⊙ Cₖ v.
			if err := n.cut(n.in, v, b, true); err != nil {
				return err
			}
			if err := n.net.vjp(n.out, n.in); err != nil {
				return err
			}
			if err := n.keep(b.first-first, b.count); err != nil {
				return err
			}
			done += b.count
			n.progress(done, total)
		}
		if err := n.blend(dst, first, count, false, first != last); err != nil {
			return err
		}
	}
	return nil
}

// batch is a run of tiles the Net evaluates at once.
type batch struct{ first, count int }

// batches splits the count tiles from first into as few batches as the
// Net holds, their sizes differing by at most one, so that no evaluation
// is mostly empty.
func (n *TiledNet) batches(first, count int) []batch {
	nb := (count + n.net.batch - 1) / n.net.batch
	bs := make([]batch, nb)
	for i := range bs {
		lo, hi := first+i*count/nb, first+(i+1)*count/nb
		bs[i] = batch{lo, hi - lo}
	}
	return bs
}

// evaluate records the Net's Eps on batch b of the latest Eps input, into
// out; if needed is set, only when the Net does not hold b's activations
// already.
func (n *TiledNet) evaluate(b batch, needed bool) error {
	if needed && b.first == n.held {
		return nil
	}
	if err := n.cut(n.in, n.x, b, false); err != nil {
		return err
	}
	if err := n.net.eps(n.out, n.in, n.tau, b.count); err != nil {
		return err
	}
	n.net.ready, n.held = true, b.first
	return nil
}

// cut records dst = Cₖ src, times wₖ if weighted, for the tiles of batch
// b, in the Net's layout for b.count samples.
func (n *TiledNet) cut(dst, src *Buffer, b batch, weighted bool) error {
	p := n.p
	k := n.c * b.count * n.plane
	p.N, p.Slots, p.First, p.Count, p.Weighted = uint32(k), uint32(b.count), uint32(b.first), uint32(b.count), b32(weighted)
	g, err := n.d.grid(k, tileCut.wg)
	if err != nil {
		return err
	}
	return dispatch(n.d, tileCut, g, &p, dst, src, n.tables, n.weights)
}

// keep records the copy of the Net's output for count tiles into the
// chunk's slots from slot on, channel by channel.
func (n *TiledNet) keep(slot, count int) error {
	for c := range n.c {
		if err := n.d.copyRange(n.results, (c*n.chunk+slot)*n.plane, n.out, c*count*n.plane, count*n.plane); err != nil {
			return err
		}
	}
	return nil
}

// blend records dst = Σₖ Cₖᵀ(chunk slot k − first), over the count tiles
// from first, each weighted by wₖ if weighted; it adds to dst's contents
// if accumulate.
func (n *TiledNet) blend(dst *Buffer, first, count int, weighted, accumulate bool) error {
	p := n.p
	p.N, p.Slots, p.First, p.Count = uint32(dst.n), uint32(n.chunk), uint32(first), uint32(count)
	p.Weighted, p.Accumulate = b32(weighted), b32(accumulate)
	g, err := n.d.grid(dst.n, tileBlend.wg)
	if err != nil {
		return err
	}
	return dispatch(n.d, tileBlend, g, &p, dst, n.results, n.tables, n.weights)
}
func (n *TiledNet) progress(done, total int) {
	if n.Progress != nil {
		n.Progress(done, total)
	}
}

func (n *TiledNet) check(op string, dst, src *Buffer) {
	if dst.n != n.Dim() || src.n != n.Dim() || dst == src {
		panic(fmt.Sprintf("gpu: TiledNet.%s: dst %d and src %d values, want %d each, distinct", op, dst.n, src.n, n.Dim()))
	}
}

// b32 is a WGSL flag.
func b32(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
