//go:build js

package main

import (
	"fmt"
	"math"
	"sync"
	"syscall/js"
	"unsafe"

	"conjure/restore"
	"conjure/tile"
	"conjure/wasm/engine"
	"conjure/wasm/jspromise"
)

// workerPool is the engine.Pool of the page's tile workers, which
// conjure-worker.js starts and exposes as globalThis.conjurePool:
//
//	eps(worker, slot, x: Uint8Array, tau) → Promise<Uint8Array>
//	vjp(worker, slot, v: Uint8Array) → Promise<Uint8Array>
//	reset() — every worker forgets its tiles
//
// Vectors travel as the bytes of little-endian float64s, transferred, so
// nothing is shared and no cross-origin isolation is needed.
type workerPool struct {
	js            js.Value
	workers, keep int
	dim           int // a tile's length: 3 channels of R×R

	mu  sync.Mutex
	err error // the first failure since Tiles
}

func (p *workerPool) Workers() int { return p.workers }
func (p *workerPool) Keep() int    { return p.keep }

// Tiles returns the proxies of n tiles, tile k on worker k mod workers.
func (p *workerPool) Tiles(n int) ([]tile.Network, error) {
	p.js.Call("reset")
	p.mu.Lock()
	p.err = nil
	p.mu.Unlock()
	nets := make([]tile.Network, n)
	for k := range nets {
		nets[k] = &remoteTile{pool: p, worker: k % p.workers, slot: k}
	}
	return nets, nil
}

// Err returns the first failure of a tile since Tiles.
func (p *workerPool) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// fail records err and fills dst with NaN, which the sampler cannot take
// for a result: tile.Network cannot return errors, and a panic on tile.Net's
// goroutines would end the whole module.
func (p *workerPool) fail(dst []float64, err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
	for i := range dst {
		dst[i] = math.NaN()
	}
}

// remoteTile is one tile of a restore, evaluated by its pool worker.
type remoteTile struct {
	pool         *workerPool
	worker, slot int
}

// Dim returns the length of a tile.
func (t *remoteTile) Dim() int { return t.pool.dim }

func (t *remoteTile) Eps(dst, x []float64, tau float64) {
	t.call(dst, "eps", js.ValueOf(t.worker), js.ValueOf(t.slot), float64Bytes(x), js.ValueOf(tau))
}

func (t *remoteTile) VJP(dst, v []float64) {
	t.call(dst, "vjp", js.ValueOf(t.worker), js.ValueOf(t.slot), float64Bytes(v))
}

func (t *remoteTile) call(dst []float64, op string, args ...any) {
	if p := t.pool.Err(); p != nil {
		t.pool.fail(dst, p)
		return
	}
	v, err := jspromise.Await(t.pool.js.Call(op, args...))
	if err == nil {
		err = readFloat64s(dst, v)
	}
	if err != nil {
		t.pool.fail(dst, fmt.Errorf("tile %d on worker %d: %w", t.slot, t.worker, err))
	}
}

// float64Bytes returns a Uint8Array of x's bytes.
func float64Bytes(x []float64) js.Value {
	u := js.Global().Get("Uint8Array").New(8 * len(x))
	if len(x) > 0 {
		js.CopyBytesToJS(u, unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 8*len(x)))
	}
	return u
}

// readFloat64s copies the float64s in the Uint8Array u into dst.
func readFloat64s(dst []float64, u js.Value) error {
	if !u.InstanceOf(js.Global().Get("Uint8Array")) || u.Get("length").Int() != 8*len(dst) {
		return fmt.Errorf("a tile worker returned %v, want %d float64s", u, len(dst))
	}
	if len(dst) > 0 {
		js.CopyBytesToGo(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 8*len(dst)), u)
	}
	return nil
}

// server is this Worker's TileServer when it is a pool worker.
var server *engine.TileServer

// tileLoad is conjureEngine.tileLoad(weights, keep): make this Worker a
// pool worker of the photo model weights, keeping keep tiles' activations.
func tileLoad(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if len(args) < 2 || args[0].Type() != js.TypeObject || args[1].Type() != js.TypeNumber {
			return nil, fmt.Errorf("conjureEngine.tileLoad(weights, keep): weights must be a Uint8Array and keep a number")
		}
		w := make([]byte, args[0].Get("length").Int())
		js.CopyBytesToGo(w, args[0])
		s, err := engine.NewTileServer(w, args[1].Int())
		if err != nil {
			return nil, err
		}
		server = s
		return nil, nil
	})
}

// tileEps is conjureEngine.tileEps(slot, x, tau) → Promise<Uint8Array>.
func tileEps(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if server == nil || len(args) < 3 {
			return nil, fmt.Errorf("tileEps(slot, x, tau) before tileLoad")
		}
		x := make([]float64, server.Dim())
		if err := readFloat64s(x, args[1]); err != nil {
			return nil, err
		}
		out, err := server.Eps(args[0].Int(), x, args[2].Float())
		if err != nil {
			return nil, err
		}
		return float64Bytes(out), nil
	})
}

// tileVJP is conjureEngine.tileVJP(slot, v) → Promise<Uint8Array>.
func tileVJP(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if server == nil || len(args) < 2 {
			return nil, fmt.Errorf("tileVJP(slot, v) before tileLoad")
		}
		v := make([]float64, server.Dim())
		if err := readFloat64s(v, args[1]); err != nil {
			return nil, err
		}
		out, err := server.VJP(args[0].Int(), v)
		if err != nil {
			return nil, err
		}
		return float64Bytes(out), nil
	})
}

// tileReset is conjureEngine.tileReset(): forget every tile, for a new
// restore.
func tileReset(js.Value, []js.Value) any {
	if server != nil {
		server.Reset()
	}
	return nil
}

// usePool is conjureEngine.usePool(workers, keep): run CPU restores of the
// photo model on globalThis.conjurePool's workers.
func usePool(_ js.Value, args []js.Value) any {
	if eng == nil || len(args) < 2 || args[0].Int() < 1 || args[1].Int() < 0 {
		return js.Global().Get("Error").New("usePool(workers ≥ 1, keep ≥ 0) after load")
	}
	p := js.Global().Get("conjurePool")
	if p.Type() != js.TypeObject {
		return js.Global().Get("Error").New("usePool: globalThis.conjurePool is not set")
	}
	res := eng.Info().Resolution
	eng.UsePool(&workerPool{js: p, workers: args[0].Int(), keep: args[1].Int(), dim: restore.Channels * res * res})
	return nil
}
