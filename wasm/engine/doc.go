// Package engine is what Conjure's Web Worker runs: it loads a weight
// file, opens the GPU backend (falling back to the CPU with a reason), and
// restores RGBA pixels with the same code path, presets and seeds as
// `conjure restore`, so the browser and the command line give the same
// images. It has no JavaScript in it: package main of wasm/ bridges it to
// the Worker's messages, and native tests drive it directly.
//
// # Invariants
//
// Pixels cross the boundary as 8-bit RGBA, row-major, non-premultiplied
// (the layout of the browser's ImageData): pixel (i, j) of a W×H image is
// at offset 4·(i·W + j). The output is always R×R, R the model's
// resolution, fully opaque. An Engine is not safe for concurrent use: the
// Worker runs one restore at a time.
package engine
