//go:build js && wasm

package main

import "github.com/syumai/workers"

// main hands the handler to the Workers runtime; worker.mjs (written by
// workers-assets-gen) instantiates this WebAssembly for each request.
func main() {
	workers.Serve(NewHandler(siteFS()))
}
