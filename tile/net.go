package tile

import (
	"fmt"
	"runtime"
	"sync"
)

// Network is a network at its fixed size: model.Runner, or an exact
// denoiser in tests. Implementations need not be safe for concurrent use;
// Net gives each worker its own.
type Network interface {
	// Dim returns the length of x: channels·Size·Size.
	Dim() int
	// Eps sets dst = ε(x, τ) and keeps what VJP needs.
	Eps(dst, x []float64, tau float64)
	// VJP sets dst = J_εᵀ v at the x and τ of the latest Eps call.
	VJP(dst, v []float64)
}

// Options tune a Net; the zero value is valid.
type Options struct {
	// Workers is the number of tiles evaluated at once, each by its own
	// network (default: GOMAXPROCS). The result does not depend on it.
	Workers int
	// Keep is the most tiles whose activations VJP may reuse from Eps,
	// each holding a network of its own (default: Workers). An image of no
	// more tiles gets one network per tile and VJP costs one backward pass
	// per tile; a larger one recomputes each tile's forward pass, in the
	// memory of Workers networks. The result does not depend on it.
	Keep int
	// Progress, if set, is called on the caller's goroutine as tiles of an
	// Eps or VJP pass finish, with the tiles done in this pass and its
	// total.
	Progress func(done, total int)
}

// Net is ε over a whole C×H×W image from a fixed-size network run on the
// tiles of a Grid. It implements cpu.Network. It is not safe for concurrent
// use.
//
// When there are no more tiles than Options.Keep every tile keeps its own
// network, and VJP reuses the activations of Eps; otherwise VJP evaluates
// each tile's forward pass again before its backward pass, so memory stays
// that of Workers networks whatever the image size.
type Net struct {
	grid     *Grid
	c, size  int
	nets     []Network
	progress func(done, total int)
	x        []float64 // the latest Eps input, for VJP's recomputation
	tau      float64
	ready    bool
	resident bool // tile k's activations are in nets[k]
	// Per worker: a tile's input, the network's output and a weighted
	// vector, and per slot of a batch the tile's result before scatter.
	in, out, wv [][]float64
	slots       [][]float64
}

// New returns the tiled ε for c-channel images on grid. newNet makes one
// fixed-size network per worker, or per tile when activations are kept;
// each must have Dim() = c·Size·Size.
func New(grid *Grid, c int, newNet func() Network, o Options) (*Net, error) {
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, grid.Tiles())
	n := &Net{grid: grid, c: c, size: grid.Size, progress: o.Progress,
		x: make([]float64, c*grid.H*grid.W), resident: grid.Tiles() <= max(workers, o.Keep)}
	nets := workers
	if n.resident {
		nets = grid.Tiles()
	}
	dim := c * grid.Size * grid.Size
	for range nets {
		net := newNet()
		if net.Dim() != dim {
			return nil, fmt.Errorf("tile: network has Dim %d, want %d (%d channels of %d×%d tiles)", net.Dim(), dim, c, grid.Size, grid.Size)
		}
		n.nets = append(n.nets, net)
	}
	for range workers {
		n.in = append(n.in, make([]float64, dim))
		n.out = append(n.out, make([]float64, dim))
		n.wv = append(n.wv, make([]float64, dim))
	}
	// A batch of two tiles per worker keeps every worker busy while the
	// previous batch is scattered, in a fixed order: the result does not
	// depend on scheduling.
	for range 2 * workers {
		n.slots = append(n.slots, make([]float64, dim))
	}
	return n, nil
}

// Grid returns the tiling.
func (n *Net) Grid() *Grid { return n.grid }

// Dim returns the length of an image: C·H·W.
func (n *Net) Dim() int { return len(n.x) }

// Eps sets dst = Σₖ Cₖᵀ(wₖ ⊙ ε_net(Cₖ x, τ)).
func (n *Net) Eps(dst, x []float64, tau float64) {
	n.checkLens("Eps", dst, x)
	copy(n.x, x)
	n.tau, n.ready = tau, true
	n.pass(dst, func(w, k int, res []float64) {
		in, out := n.in[w], n.out[w]
		n.gather(in, x, k)
		net := n.nets[n.netFor(w, k)]
		net.Eps(out, in, tau)
		n.weigh(res, out, k)
	})
}

// VJP sets dst = Σₖ Cₖᵀ J_netᵀ(wₖ ⊙ Cₖ v) at the latest Eps.
func (n *Net) VJP(dst, v []float64) {
	if !n.ready {
		panic("tile: VJP before Eps")
	}
	n.checkLens("VJP", dst, v)
	n.pass(dst, func(w, k int, res []float64) {
		in, wv := n.in[w], n.wv[w]
		net := n.nets[n.netFor(w, k)]
		if !n.resident {
			n.gather(in, n.x, k)
			net.Eps(n.out[w], in, n.tau)
		}
		n.gather(in, v, k)
		n.weigh(wv, in, k)
		net.VJP(res, wv)
	})
}

// netFor returns the network worker w uses for tile k: its own, or the
// tile's when tiles are resident.
func (n *Net) netFor(w, k int) int {
	if n.resident {
		return k
	}
	return w
}

// pass computes tile(w, k, res) for every tile k, res being the tile's
// result in network layout, and scatters the results into dst in tile
// order.
func (n *Net) pass(dst []float64, tile func(w, k int, res []float64)) {
	clear(dst)
	total, workers := n.grid.Tiles(), len(n.in)
	for start := 0; start < total; start += len(n.slots) {
		end := min(start+len(n.slots), total)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for k := start + w; k < end; k += workers {
					tile(w, k, n.slots[k-start])
				}
			})
		}
		wg.Wait()
		for k := start; k < end; k++ {
			n.scatter(dst, n.slots[k-start], k)
		}
		if n.progress != nil {
			n.progress(end, total)
		}
	}
}

// gather sets dst (network layout) to Cₖ src.
func (n *Net) gather(dst, src []float64, k int) {
	rows, cols := n.grid.Rows[k/len(n.grid.Cols)], n.grid.Cols[k%len(n.grid.Cols)]
	h, w, s := n.grid.H, n.grid.W, n.size
	for ch := range n.c {
		for t, i := range rows.Index {
			d, r := dst[(ch*s+t)*s:(ch*s+t+1)*s], src[(ch*h+i)*w:(ch*h+i+1)*w]
			for u, j := range cols.Index {
				d[u] = r[j]
			}
		}
	}
}

// scatter adds Cₖᵀ src to dst; reflected positions add to the pixel they
// reflect.
func (n *Net) scatter(dst, src []float64, k int) {
	rows, cols := n.grid.Rows[k/len(n.grid.Cols)], n.grid.Cols[k%len(n.grid.Cols)]
	h, w, s := n.grid.H, n.grid.W, n.size
	for ch := range n.c {
		for t, i := range rows.Index {
			r, d := src[(ch*s+t)*s:(ch*s+t+1)*s], dst[(ch*h+i)*w:(ch*h+i+1)*w]
			for u, j := range cols.Index {
				d[j] += r[u]
			}
		}
	}
}

// weigh sets dst = wₖ ⊙ src in network layout.
func (n *Net) weigh(dst, src []float64, k int) {
	rows, cols := n.grid.Rows[k/len(n.grid.Cols)], n.grid.Cols[k%len(n.grid.Cols)]
	s := n.size
	for ch := range n.c {
		for t, a := range rows.Weight {
			o := (ch*s + t) * s
			for u, b := range cols.Weight {
				dst[o+u] = a * b * src[o+u]
			}
		}
	}
}

func (n *Net) checkLens(op string, dst, src []float64) {
	if len(dst) != len(n.x) || len(src) != len(n.x) {
		panic(fmt.Sprintf("tile: %s: len(dst) = %d, len(src) = %d, want Dim() = %d", op, len(dst), len(src), len(n.x)))
	}
}
