// Package engine is what Conjure's Web Worker runs: it loads a weight
// file, opens the GPU backend (falling back to the CPU with a reason), and
// restores RGBA pixels with the same code path, presets and seeds as
// `conjure restore`, so the browser and the command line give the same
// images. It has no JavaScript in it: package main of wasm/ bridges it to
// the Worker's messages, and native tests drive it directly.
//
// Two kinds of model, as on the command line: a local prior (the shipped
// photo model) restores a whole photo at its own size, its network run on
// overlapping tiles (package tile on the CPU, gpu.TiledNet on the GPU); a
// model with attention (the face model) is framed, restoring R×R images
// of the input's centred square.
//
// On the CPU a photo's tiles may run on a Pool: other Workers, each with
// its own TileServer and copy of the model, while the sampler stays here
// (pool.go). A restore can report a Preview after every step, the step's
// x̂₀ finished like the result, the last one the result itself
// (preview.go).
//
// # Invariants
//
// Pixels cross the boundary as 8-bit RGBA, row-major, non-premultiplied
// (the layout of the browser's ImageData): pixel (i, j) of a W×H image is
// at offset 4·(i·W + j). Outputs are fully opaque: a photo model's is
// 4W×4H for sr4 and sr4box, 2W×2H for sr2 and W×H otherwise; a framed
// model's is R×R, R its resolution. Progress counts tile-steps, the
// network's tiles times the sampler's steps, so that it moves on large
// photos. Sizes are checked before anything the size of the photo is
// allocated. An Engine is not safe for concurrent use: the Worker runs one
// restore at a time.
package engine
