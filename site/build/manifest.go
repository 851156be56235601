package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// hashedDir is where content-hashed assets go; the edge server caches
// everything under it as immutable.
const hashedDir = "assets/"

// Manifest is assets.json: the site-relative URLs of the hashed assets and
// what conjure.js needs to know of each model before fetching it. URLs are
// absolute paths ("/assets/…"); resolve them against the URL of assets.json
// when the module runs on another origin.
type Manifest struct {
	Wasm     string `json:"wasm"`
	WasmExec string `json:"wasmExec"`
	// Kernel is the WebAssembly SIMD128 GEMM kernel (model/wasmgemm) each
	// Worker instantiates with the Go instance's memory.
	Kernel string `json:"kernel"`
	// Model is the default model, Models[0]: what Conjure.load() loads.
	Model ModelInfo `json:"model"`
	// Models lists every shipped model, the default first.
	Models []ModelInfo `json:"models"`
}

// ModelInfo describes a shipped weight file.
type ModelInfo struct {
	Name       string `json:"name"` // as Conjure.load({model}) and `conjure restore --model` take it
	URL        string `json:"url"`
	SHA256     string `json:"sha256"` // lowercase hex of the whole file; conjure.js verifies it
	Bytes      int64  `json:"bytes"`
	Resolution int    `json:"resolution"` // R: the network's tile side
	// Framed reports a model with attention, which restores the R×R frame
	// of a centred square; a local model restores whole photos on tiles.
	Framed bool `json:"framed"`
}

func (m Manifest) encode() []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		// A struct of strings and integers always marshals.
		panic("site/build: " + err.Error())
	}
	return append(b, '\n')
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// writer writes site files under out and keeps the first error, so a
// sequence of writes reads as a list.
type writer struct {
	out string
	err error
}

// file writes data to the site file name.
func (w *writer) file(name string, data []byte) {
	if w.err != nil {
		return
	}
	if err := os.WriteFile(filepath.Join(w.out, name), data, 0o644); err != nil {
		w.err = fmt.Errorf("write site file: %w", err)
	}
}

// hashed writes data as assets/<stem>.<hash><ext> and returns its URL. The
// hash is the first 12 hex digits of the SHA-256: a new build of a file gets
// a new name, so browsers may cache every name forever.
func (w *writer) hashed(stem, ext string, data []byte) string {
	name := hashedDir + stem + "." + sha256Hex(data)[:12] + ext
	w.file(name, data)
	return "/" + name
}
