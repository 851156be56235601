package engine

import (
	"bytes"
	"fmt"

	"conjure/model"
	"conjure/restore"
	"conjure/tile"
)

// Pool runs a photo model's tiles on the CPU of other threads (the page's
// Web Workers, each with its own copy of the model; wasm/pool_js.go) while
// the sampler stays with the Engine. Within a step the tiles' ε and VJP
// are independent, so a pool of N workers runs a pass N tiles at a time.
type Pool interface {
	// Workers returns the number of workers.
	Workers() int
	// Keep returns how many tiles' activations each worker keeps from Eps
	// to VJP; a worker recomputes the forward pass of the others.
	Keep() int
	// Tiles returns the networks of a restore's n tiles, tile k running on
	// worker k mod Workers() for the whole restore, so that a worker keeps
	// its own tiles' activations. It drops what an earlier restore's tiles
	// kept.
	Tiles(n int) ([]tile.Network, error)
	// Err returns the first failure of a tile since Tiles. A tile.Network
	// cannot return errors, so a failed tile's result is NaN and its
	// error waits here.
	Err() error
}

// UsePool runs later CPU restores of a photo model on p's workers; nil runs
// them here, one tile at a time. Results do not depend on it: every tile
// is evaluated by the same code, and the tiles are blended in a fixed
// order.
func (e *Engine) UsePool(p Pool) { e.pool = p }

// Threads returns how many threads a restore runs on the CPU: the pool's
// workers, or one (on the GPU too).
func (e *Engine) Threads() int {
	if e.pool == nil || e.prior != restore.PriorPhoto || e.backend != CPU {
		return 1
	}
	return e.pool.Workers()
}

// TileServer evaluates the tiles a Pool pins to one worker, each tile
// known by its slot (its index in the restore). The first Keep slots of a
// restore get a network of their own, which keeps their activations from
// Eps to VJP; the others share one network and have their forward pass
// evaluated again before their VJP, from the input kept here. It is what a
// pool worker runs (wasm/main_js.go's tile functions).
type TileServer struct {
	m      *model.Model
	keep   int
	own    map[int]*model.Runner // the kept slots' networks
	free   []*model.Runner       // kept networks of an earlier restore, for reuse
	shared *model.Runner         // the other slots'
	inputs map[int]tileInput     // the other slots' latest Eps inputs
	last   int                   // the slot shared's activations belong to; −1 for none
}

// tileInput is a tile's Eps input, for recomputing its forward pass.
type tileInput struct {
	x   []float64
	tau float64
}

// NewTileServer parses the weight file weights, which must be a photo
// model's, for a worker that keeps keep tiles' activations.
func NewTileServer(weights []byte, keep int) (*TileServer, error) {
	if keep < 0 {
		return nil, fmt.Errorf("keep %d: give the number of tiles whose activations a worker keeps, ≥ 0", keep)
	}
	m, err := model.Read(bytes.NewReader(weights), int64(len(weights)))
	if err != nil {
		return nil, fmt.Errorf("the model file is not a Conjure weight file (%v): reload the page", err)
	}
	if restore.Prior(m.Config()) != restore.PriorPhoto {
		return nil, fmt.Errorf("a pool worker runs a photo model's tiles; this model is framed: run it without a pool")
	}
	s := &TileServer{m: m, keep: keep}
	s.Reset()
	return s, nil
}

// Reset forgets every slot, for a new restore. The kept networks stay
// allocated for the next one: WebAssembly memory, once grown, is never
// given back anyway.
func (s *TileServer) Reset() {
	for _, r := range s.own {
		s.free = append(s.free, r)
	}
	s.own = map[int]*model.Runner{}
	s.inputs = map[int]tileInput{}
	s.last = -1
}

// Dim returns the length of a tile: channels·R·R.
func (s *TileServer) Dim() int {
	c := s.m.Config()
	return c.InChannels * c.Resolution * c.Resolution
}

// Eps returns ε(x, τ) for slot's tile x.
func (s *TileServer) Eps(slot int, x []float64, tau float64) ([]float64, error) {
	if err := s.check("Eps", slot, x); err != nil {
		return nil, err
	}
	out := make([]float64, len(x))
	if r := s.runner(slot); r != nil {
		r.Eps(out, x, tau)
		return out, nil
	}
	s.shared.Eps(out, x, tau)
	s.inputs[slot] = tileInput{x: append(s.inputs[slot].x[:0], x...), tau: tau}
	s.last = slot
	return out, nil
}

// VJP returns J_εᵀ v at slot's latest Eps.
func (s *TileServer) VJP(slot int, v []float64) ([]float64, error) {
	if err := s.check("VJP", slot, v); err != nil {
		return nil, err
	}
	out := make([]float64, len(v))
	if r, ok := s.own[slot]; ok {
		r.VJP(out, v)
		return out, nil
	}
	in, ok := s.inputs[slot]
	if !ok {
		return nil, fmt.Errorf("tile %d: VJP before Eps", slot)
	}
	if s.last != slot {
		s.shared.Eps(out, in.x, in.tau)
		s.last = slot
	}
	s.shared.VJP(out, v)
	return out, nil
}

// runner returns slot's own network, giving it one while fewer than keep
// slots have one; nil means the shared network.
func (s *TileServer) runner(slot int) *model.Runner {
	if r, ok := s.own[slot]; ok {
		return r
	}
	if len(s.own) >= s.keep {
		if s.shared == nil {
			s.shared = s.m.NewRunner()
		}
		return nil
	}
	var r *model.Runner
	if n := len(s.free); n > 0 {
		r, s.free = s.free[n-1], s.free[:n-1]
	} else {
		r = s.m.NewRunner()
	}
	s.own[slot] = r
	return r
}

func (s *TileServer) check(op string, slot int, v []float64) error {
	if slot < 0 {
		return fmt.Errorf("tile %d: %s of a negative slot", slot, op)
	}
	if len(v) != s.Dim() {
		return fmt.Errorf("tile %d: %s of %d values, want %d", slot, op, len(v), s.Dim())
	}
	return nil
}
