// Command build assembles the deployable site into one folder: the static
// files of site/static under their own names, and the WebAssembly, Go's
// wasm_exec.js, the SIMD GEMM kernel and the shipped models (package models: photo, the default,
// and face64) under content-hashed names in assets/, listed in assets.json
// for conjure.js and the service worker.
//
//	go run ./site/build -out site/worker/dist
//
// It runs from anywhere inside the module and builds ./wasm with the go
// command on PATH (GOOS=js GOARCH=wasm).
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "", "folder to write the site into (created if missing)")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: go run ./site/build -out DIR")
		os.Exit(2)
	}
	m, err := build(*out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "site/build: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("site: wrote %s (wasm %s", *out, m.Wasm)
	for _, mi := range m.Models {
		fmt.Printf(", model %s %s, %d bytes", mi.Name, mi.URL, mi.Bytes)
	}
	fmt.Println(")")
}
