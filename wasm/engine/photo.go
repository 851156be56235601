package engine

import (
	"fmt"
	"time"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/imaging"
	"conjure/restore"
	"conjure/sampler"
	"conjure/tile"
)

// cpuKeep is the most tiles whose activations the CPU keeps between ε and
// its VJP, which saves a third of a step: about 45 MB a tile with the
// photo model. The command line keeps 48; the Worker keeps few, because
// WebAssembly memory, once grown, is never given back to the system, and
// the CPU fallback is for small photos anyway.
const cpuKeep = 4

// restorePhoto restores the whole photo at its own size, as the command
// line's restorePhoto does: restore.Photo's problem (working size
// restore.DefaultWork), the network run on tiles of the problem's image.
// It returns the previews too, for Restore to end them with the result.
func (e *Engine) restorePhoto(j job, r Request, progress func(done, total int), preview func(Preview)) (Result, *previews, error) {
	img, err := rgba(r.Pixels, r.Width, r.Height, "input")
	if err != nil {
		return Result{}, nil, err
	}
	var keep []bool
	if j.task == restore.Inpaint {
		if r.Mask == nil {
			return Result{}, nil, fmt.Errorf("inpainting needs a mask the size of the input (white = keep, black = fill)")
		}
		m, err := rgba(r.Mask, r.Width, r.Height, "mask")
		if err != nil {
			return Result{}, nil, err
		}
		keep = imaging.Mask(m)
	}
	ph := restore.Photo{Task: j.task, Input: imaging.Planar(img), H: r.Height, W: r.Width, Keep: keep, SigmaY: j.sigmaY, Work: restore.DefaultWork}
	prob, err := ph.Problem()
	if err != nil {
		return Result{}, nil, err
	}
	res := e.m.Config().Resolution
	g, err := tile.NewGrid(prob.H, prob.W, res, tile.DefaultOverlap(res))
	if err != nil {
		return Result{}, nil, err
	}
	pv := newPreviews(preview, prob.Finish, prob.OutH, prob.OutW)
	start := time.Now()
	backend := e.backend
	var x []float64
	if e.dev == nil {
		x, err = e.photoCPU(prob, g, j, r.Seed, progress, pv)
	} else {
		x, err = e.photoGPU(prob, g, j, r.Seed, progress, pv)
	}
	if err != nil {
		return Result{}, nil, err
	}
	e.observe(backend, g.Tiles(), j.o.Steps, time.Since(start))
	out, err := imaging.Image(x, restore.Channels, prob.OutH, prob.OutW)
	if err != nil {
		return Result{}, nil, err
	}
	return Result{Pixels: out.Pix, Width: prob.OutW, Height: prob.OutH, Backend: backend}, pv, nil
}

// photoCPU solves prob with the CPU reference network over the tiles of g:
// on the pool's workers when there is a pool, else here, one tile at a
// time (the Worker has one thread). The result does not depend on which.
func (e *Engine) photoCPU(prob *restore.Problem, g *tile.Grid, j job, seed uint64, progress func(done, total int), pv *previews) ([]float64, error) {
	workers, keep, newNet := 1, cpuKeep, func() tile.Network { return e.m.NewRunner() }
	if e.pool != nil {
		nets, err := e.pool.Tiles(g.Tiles())
		if err != nil {
			return nil, err
		}
		// Every tile gets its own proxy, so tile.Net treats all as
		// resident; the pool's workers decide what they keep.
		workers, keep = e.pool.Workers(), g.Tiles()
		newNet = func() tile.Network {
			n := nets[0]
			nets = nets[1:]
			return n
		}
	}
	count := newTileSteps(g.Tiles(), j.o.Steps, passCosts(e.keepsAll(g.Tiles())), progress)
	net, err := tile.New(g, e.m.Config().InChannels, newNet, tile.Options{Workers: workers, Keep: keep, Progress: count.tiles})
	if err != nil {
		return nil, err
	}
	b := cpu.New(net)
	x, err := restore.RunPhoto(b, prob, j.o, seed, func(s sampler.Step) {
		count.step(s)
		pv.step(b, s)
	})
	if e.pool != nil {
		if perr := e.pool.Err(); perr != nil {
			return nil, fmt.Errorf("a tile worker failed (%v): reload the page and try again", perr)
		}
	}
	return x, err
}

// keepsAll reports whether a CPU restore over tiles tiles keeps every
// tile's activations between Eps and VJP.
func (e *Engine) keepsAll(tiles int) bool {
	if e.pool == nil {
		return tiles <= cpuKeep
	}
	w := e.pool.Workers()
	return (tiles+w-1)/w <= e.pool.Keep()
}

// photoGPU solves prob on the GPU with a TiledNet over g made for this
// restore: its chunk buffer is sized to the tiles, its Net to a batch of
// them (gpu.TileBatchBytes), and it is freed at the end. The sampler's vectors are the image's size, as on any backend.
func (e *Engine) photoGPU(prob *restore.Problem, g *tile.Grid, j job, seed uint64, progress func(done, total int), pv *previews) ([]float64, error) {
	tn, err := gpu.NewTiledNet(e.dev, e.m, g)
	if err != nil {
		return nil, fmt.Errorf("the GPU cannot hold this photo's %d tiles (%v): try a smaller photo", g.Tiles(), err)
	}
	d, slot := e.dev, e.slot
	defer func() {
		slot.Network = nil
		// A GPU failure closes the device, which frees everything on it.
		if e.dev == d {
			tn.Destroy()
		}
	}()
	// VJP evaluates each batch's forward pass again (all but the one the
	// Net holds), so it costs about two Eps passes unless there is one.
	count := newTileSteps(g.Tiles(), j.o.Steps, passCosts(g.Tiles() <= tn.NetBatch()), progress)
	every, waited := syncEvery(g.Tiles()), 0
	tn.Progress = func(done, total int) {
		// The TiledNet reports tiles recorded, a batch at a time, which
		// the device runs later: wait for it now and then, so the bar
		// shows work done at the cost of a few pauses in the device's
		// queue.
		if done < waited {
			waited = 0 // the next pass
		}
		if done-waited >= every || done == total {
			e.wait()
			count.tiles(done, total)
			waited = done
		}
	}
	slot.Network = tn
	return e.onGPU(prob.Op, count, pv, func(b sampler.Backend, cb func(sampler.Step)) ([]float64, error) {
		return restore.RunPhoto(b, prob, j.o, seed, cb)
	})
}

// syncEvery returns how many recorded tiles the GPU path lets pass between
// waits for the device: about 16 waits a pass.
func syncEvery(tiles int) int { return max(1, (tiles+15)/16) }
