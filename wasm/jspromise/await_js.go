//go:build js

// Package jspromise waits for JavaScript promises from Go compiled to
// WebAssembly.
package jspromise

import (
	"errors"
	"syscall/js"
)

// Await blocks the calling goroutine until the promise p settles and
// returns its value, or its rejection as an error. It must not run on the
// goroutine of a js.FuncOf callback: the promise settles only once the
// callback has returned to the event loop.
func Await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	onResolve := js.FuncOf(func(_ js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	defer onResolve.Release()
	onReject := js.FuncOf(func(_ js.Value, args []js.Value) any {
		msg := "rejected"
		if len(args) > 0 {
			msg = js.Global().Get("String").Invoke(args[0]).String()
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer onReject.Release()
	p.Call("then", onResolve, onReject)
	r := <-ch
	return r.v, r.err
}
