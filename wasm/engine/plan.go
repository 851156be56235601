package engine

import (
	"math"
	"time"

	"conjure/restore"
	"conjure/sampler"
	"conjure/tile"
)

// Plan is the work a restore takes, for the page to show before it starts
// and to refuse what the CPU would need minutes for.
type Plan struct {
	Width, Height int // the output's size
	Tiles         int // network tiles per pass; for inpainting an upper bound (the window depends on the mask)
	TileSteps     int // Tiles × steps: the total progress counts to
	// Seconds is the estimated time on the engine's backend: on the CPU
	// from one tile's measured time, on the GPU from the calibration Load
	// runs (one tile, one step), each refined by every restore.
	Seconds float64
	Backend string // WebGPU or CPU
}

// Plan returns the work r would take, checking it as Restore does but
// without pixels: only Task, Width, Height, Steps and Method are read. The
// first estimate on the CPU runs one tile to time it (about a second).
func (e *Engine) Plan(r Request) (Plan, error) {
	j, err := e.check(r)
	if err != nil {
		return Plan{}, err
	}
	res := e.m.Config().Resolution
	p := Plan{Width: res, Height: res, Tiles: 1, Backend: e.backend}
	if e.prior == restore.PriorPhoto {
		f := restore.Factor(j.task)
		p.Width, p.Height = f*r.Width, f*r.Height
		h, w := p.Height, p.Width
		if j.task == restore.Inpaint || j.task == restore.Gray {
			h, w = restore.FitWithin(r.Height, r.Width, restore.DefaultWork)
		}
		g, err := tile.NewGrid(h, w, res, tile.DefaultOverlap(res))
		if err != nil {
			return Plan{}, err
		}
		p.Tiles = g.Tiles()
	}
	p.TileSteps = p.Tiles * j.o.Steps
	p.Seconds = e.estimate(p.Tiles, j.o.Steps).Seconds()
	return p, nil
}

// costs are measured times, for estimates.
type costs struct {
	// eps and vjp are one tile's forward pass and VJP on the CPU, timed
	// once, on first use.
	eps, vjp time.Duration
	// factor is the latest CPU restore's time over its prediction from eps
	// and vjp (the sampler's own work, the blending, the machine's load);
	// 0 before one.
	factor float64
	// gpuTileStep is the latest GPU restore's time per tile-step, the
	// calibration's before the first.
	gpuTileStep time.Duration
}

// estimate returns how long steps steps over tiles tiles take.
func (e *Engine) estimate(tiles, steps int) time.Duration {
	if e.backend == WebGPU {
		return time.Duration(tiles*steps) * e.cost.gpuTileStep
	}
	d := time.Duration(steps) * e.cpuStepCost(tiles)
	if e.cost.factor > 0 {
		d = time.Duration(float64(d) * e.cost.factor)
	}
	return d
}

// cpuStepCost predicts one step over tiles tiles on the CPU: each tile's
// Eps and VJP, and a second Eps where the CPU keeps no activations; a
// pool's workers share the tiles, the busiest running ⌈tiles/workers⌉.
func (e *Engine) cpuStepCost(tiles int) time.Duration {
	if e.cost.eps == 0 {
		e.timeTile()
	}
	per := e.cost.eps + e.cost.vjp
	if e.prior == restore.PriorPhoto && !e.keepsAll(tiles) {
		per += e.cost.eps
	}
	threads := e.Threads()
	return time.Duration((tiles+threads-1)/threads) * per
}

// timeTile times one tile's Eps and VJP on a fresh CPU network.
func (e *Engine) timeTile() {
	net := e.m.NewRunner()
	x, out := make([]float64, net.Dim()), make([]float64, net.Dim())
	for i := range x {
		x[i] = math.Sin(float64(i))
	}
	t0 := time.Now()
	net.Eps(out, x, 0.5)
	t1 := time.Now()
	net.VJP(out, x)
	e.cost.eps, e.cost.vjp = max(t1.Sub(t0), time.Microsecond), max(time.Since(t1), time.Microsecond)
}

// observe records a restore of steps steps over tiles tiles that took d on
// backend.
func (e *Engine) observe(backend string, tiles, steps int, d time.Duration) {
	if backend == WebGPU {
		e.cost.gpuTileStep = d / time.Duration(tiles*steps)
		return
	}
	if e.cost.eps == 0 {
		// Nothing predicted this restore; the first Plan times a tile.
		return
	}
	e.cost.factor = float64(d) / float64(time.Duration(steps)*e.cpuStepCost(tiles))
}

// tileSteps turns the tiled network's per-pass counts and the sampler's
// steps into one count of tile-steps, done of tiles×steps, that only ever
// grows: within a step, the Eps pass and the VJP pass share the step's
// tiles in proportion to their cost.
type tileSteps struct {
	n, total int
	cost     [2]int // the Eps pass's and the VJP pass's cost, in tile forwards
	at       int    // steps done
	pass     int    // passes finished in this step
	done     int    // last reported
	report   func(done, total int)
}

// passCosts returns the relative costs of a step's Eps and VJP passes:
// equal where each tile's activations are kept between the two, else the
// VJP pass evaluates each tile's forward again.
func passCosts(kept bool) [2]int {
	if kept {
		return [2]int{1, 1}
	}
	return [2]int{1, 2}
}

func newTileSteps(tiles, steps int, cost [2]int, report func(done, total int)) *tileSteps {
	return &tileSteps{n: tiles, total: tiles * steps, cost: cost, report: report}
}

// tiles is the network's callback: done of total tiles of the current
// pass are finished.
func (c *tileSteps) tiles(done, total int) {
	p := min(c.pass, len(c.cost)-1)
	units := done * c.cost[p]
	for _, k := range c.cost[:p] {
		units += k * total
	}
	within := c.n * units / (total * (c.cost[0] + c.cost[1]))
	// The step's last tile-step is reported by the step itself, once the
	// sampler has finished it.
	c.emit(c.at*c.n + min(within, c.n-1))
	if done == total {
		c.pass++
	}
}

// step is the sampler's callback.
func (c *tileSteps) step(s sampler.Step) {
	c.at, c.pass = s.I, 0
	c.emit(s.I * c.n)
}

func (c *tileSteps) emit(done int) {
	if done <= c.done {
		return
	}
	c.done = done
	if c.report != nil {
		c.report(done, c.total)
	}
}
