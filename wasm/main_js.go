//go:build js

// Command wasm is Conjure's WebAssembly module, run inside a dedicated Web
// Worker (site/static/conjure-worker.js). It exposes globalThis.conjureEngine
// with three functions that return promises and one that does not:
//
//	load(weights: Uint8Array, backend: 'auto'|'webgpu'|'cpu') → info
//	restore(request, onProgress(done, total)) → {pixels: Uint8ClampedArray, width, height, resized, backend}
//	plan(request) → {width, height, tiles, tileSteps, seconds, backend}
//	info() → info, or null before load (not a promise)
//
// and, for the pool of tile workers (pool_js.go), tileLoad, tileEps,
// tileVJP and tileReset in each pool worker, and usePool(workers, keep) in
// the Worker that runs the sampler.
//
// info is {backend: "webgpu"|"cpu", adapter, resolution, bytes, framed,
// notice, threads}; a request is {task, pixels: Uint8ClampedArray (RGBA), width,
// height, mask?: Uint8ClampedArray, steps, method, seed} (plan reads no
// pixels). Progress counts tile-steps (tiles × steps). Failures reject
// with an Error whose message says what to do; a panic never escapes.
//
// Before go.run, the Worker must set globalThis.wasm to the result of
// WebAssembly.instantiate: the WebGPU binding reads the module's memory
// through it to upload buffers without a copy.
package main

import (
	"fmt"
	"syscall/js"

	"conjure/wasm/engine"
)

// eng is the loaded engine; the Worker handles one message at a time.
var eng *engine.Engine

func main() {
	js.Global().Set("conjureEngine", js.ValueOf(map[string]any{
		"load":    js.FuncOf(load),
		"restore": js.FuncOf(restoreFunc),
		"plan":    js.FuncOf(planFunc),
		"info":    js.FuncOf(infoFunc),
		// A pool worker's functions (pool_js.go), and the main Worker's
		// switch to its pool.
		"tileLoad":  js.FuncOf(tileLoad),
		"tileEps":   js.FuncOf(tileEps),
		"tileVJP":   js.FuncOf(tileVJP),
		"tileReset": js.FuncOf(tileReset),
		"usePool":   js.FuncOf(usePool),
	}))
	select {} // serve calls for the Worker's lifetime
}

// load is conjureEngine.load(weights, backend).
func load(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if len(args) < 2 || args[0].Type() != js.TypeObject || args[1].Type() != js.TypeString {
			return nil, fmt.Errorf("conjureEngine.load(weights, backend): weights must be a Uint8Array and backend 'auto', 'webgpu' or 'cpu'")
		}
		w := make([]byte, args[0].Get("length").Int())
		js.CopyBytesToGo(w, args[0])
		e, err := engine.Load(w, args[1].String())
		if err != nil {
			return nil, err
		}
		if eng != nil {
			eng.Close()
		}
		eng = e
		return infoObject(e.Info()), nil
	})
}

// infoFunc is conjureEngine.info(): the engine's state after the latest
// call, since a GPU failure during a restore moves the engine to the CPU.
func infoFunc(js.Value, []js.Value) any {
	if eng == nil {
		return nil
	}
	return infoObject(eng.Info())
}

func infoObject(in engine.Info) map[string]any {
	return map[string]any{
		"backend": in.Backend, "adapter": in.Adapter, "resolution": in.Resolution,
		"bytes": in.Bytes, "framed": in.Framed, "notice": in.Notice, "threads": in.Threads,
	}
}

// restoreFunc is conjureEngine.restore(request, onProgress, onPreview):
// onPreview, when given, gets (pixels, width, height, step, steps) after
// every step, the last time with the result.
func restoreFunc(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if eng == nil {
			return nil, fmt.Errorf("no model loaded: call Conjure.load() first")
		}
		if len(args) < 1 || args[0].Type() != js.TypeObject {
			return nil, fmt.Errorf("restore(request): request must be an object")
		}
		r, err := request(args[0], true)
		if err != nil {
			return nil, err
		}
		var progress func(done, total int)
		if len(args) > 1 && args[1].Type() == js.TypeFunction {
			progress = func(done, total int) { args[1].Invoke(done, total) }
		}
		var preview func(engine.Preview)
		if len(args) > 2 && args[2].Type() == js.TypeFunction {
			preview = func(p engine.Preview) {
				px := js.Global().Get("Uint8ClampedArray").New(len(p.Pixels))
				js.CopyBytesToJS(px, p.Pixels)
				args[2].Invoke(px, p.Width, p.Height, p.Step, p.Steps)
			}
		}
		res, err := eng.Restore(r, progress, preview)
		if err != nil {
			return nil, err
		}
		px := js.Global().Get("Uint8ClampedArray").New(len(res.Pixels))
		js.CopyBytesToJS(px, res.Pixels)
		return map[string]any{"pixels": px, "width": res.Width, "height": res.Height, "resized": res.Resized, "backend": res.Backend}, nil
	})
}

// planFunc is conjureEngine.plan(request).
func planFunc(_ js.Value, args []js.Value) any {
	return promise(func() (any, error) {
		if eng == nil {
			return nil, fmt.Errorf("no model loaded: call Conjure.load() first")
		}
		if len(args) < 1 || args[0].Type() != js.TypeObject {
			return nil, fmt.Errorf("plan(request): request must be an object")
		}
		r, err := request(args[0], false)
		if err != nil {
			return nil, err
		}
		p, err := eng.Plan(r)
		if err != nil {
			return nil, err
		}
		return map[string]any{"width": p.Width, "height": p.Height, "tiles": p.Tiles, "tileSteps": p.TileSteps,
			"seconds": p.Seconds, "backend": p.Backend}, nil
	})
}

// request reads a restore request from its JavaScript object, and with
// pixels its pixels and mask, once eng.Check has passed, so that an
// over-size photo is refused before it is copied.
func request(o js.Value, pixels bool) (engine.Request, error) {
	r := engine.Request{
		Task:   o.Get("task").String(),
		Method: o.Get("method").String(),
		Width:  o.Get("width").Int(),
		Height: o.Get("height").Int(),
		Steps:  o.Get("steps").Int(),
	}
	seed := o.Get("seed").Float()
	if seed < 0 || seed != float64(uint64(seed)) || seed > 1<<53 {
		return r, fmt.Errorf("seed %v: use a whole number from 0 to 2^53", seed)
	}
	r.Seed = uint64(seed)
	if s := o.Get("sigmaY"); s.Type() == js.TypeNumber {
		v := s.Float()
		r.SigmaY = &v
	} else if !s.IsUndefined() && !s.IsNull() {
		return r, fmt.Errorf("sigmaY %v: give a number (0: an exact measurement) or leave it out", s)
	}
	if !pixels {
		return r, nil
	}
	if err := eng.Check(r); err != nil {
		return r, err
	}
	var err error
	if r.Pixels, err = bytesOf(o.Get("pixels"), "pixels"); err != nil {
		return r, err
	}
	if m := o.Get("mask"); m.Truthy() {
		if r.Mask, err = bytesOf(m, "mask"); err != nil {
			return r, err
		}
	}
	return r, nil
}

// bytesOf copies a Uint8Array or Uint8ClampedArray into Go.
func bytesOf(v js.Value, name string) ([]byte, error) {
	if !v.InstanceOf(js.Global().Get("Uint8ClampedArray")) && !v.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, fmt.Errorf("%s must be the data of an ImageData (a Uint8ClampedArray)", name)
	}
	b := make([]byte, v.Get("length").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// promise runs f on a new goroutine — never inside the js.FuncOf callback,
// since WebGPU readbacks block on promises that only settle once the
// callback has returned — and returns a Promise of its result. A panic
// rejects the promise like an error.
func promise(f func() (any, error)) js.Value {
	var resolve, reject js.Value
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	defer executor.Release()
	p := js.Global().Get("Promise").New(executor)
	go func() {
		v, err := func() (v any, err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("internal error (%v): reload the page and try again; if it persists, report it with the browser's console log", r)
				}
			}()
			return f()
		}()
		if err != nil {
			reject.Invoke(js.Global().Get("Error").New(err.Error()))
			return
		}
		resolve.Invoke(v)
	}()
	return p
}
