// Command wasmgemm writes the WebAssembly SIMD128 GEMM kernel of package
// model/wasmgemm, for harnesses that load it beside a GOOS=js binary (the
// node runner of the wasm tests, the GEMM benchmark); the site build
// writes it itself.
//
//	go run ./cmd/wasmgemm -o kernel.wasm   # the module
//	go run ./cmd/wasmgemm -listing         # its assembly listing
package main

import (
	"flag"
	"fmt"
	"os"

	"conjure/model/wasmgemm"
)

func main() {
	out := flag.String("o", "", "write the module to this file")
	listing := flag.Bool("listing", false, "print the module's assembly listing")
	flag.Parse()
	if (*out == "") == !*listing {
		fmt.Fprintln(os.Stderr, "usage: wasmgemm -o FILE | -listing")
		os.Exit(2)
	}
	if *listing {
		fmt.Print(wasmgemm.Listing())
		return
	}
	if err := os.WriteFile(*out, wasmgemm.Module(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "wasmgemm: %v\n", err)
		os.Exit(1)
	}
}
