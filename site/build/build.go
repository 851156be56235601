package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"conjure/model"
	"conjure/model/wasmgemm"
	"conjure/models"
	"conjure/restore"
)

// requiredFiles are the files of site/static the site cannot start without.
// Every visible file of site/static is copied and served under its own name
// (revalidated on every use); the build fails when one of these is missing
// rather than ship a page that cannot start.
var requiredFiles = []string{
	"index.html",
	"app.js",
	"app.css",
	"sw.js",
	"manifest.webmanifest",
	"icon.svg",
	"conjure.js",
	"conjure-worker.js",
	"conjure-restore.js",
}

// build writes the site into out and returns its asset manifest. It ships
// every model of models.Names, the default first, with the bytes the
// command line embeds, so the browser and `conjure restore --model NAME`
// run the same weights.
func build(out string) (Manifest, error) {
	root, err := moduleRoot()
	if err != nil {
		return Manifest{}, err
	}
	static := filepath.Join(root, "site", "static")
	for _, name := range requiredFiles {
		if _, err := os.Stat(filepath.Join(static, name)); err != nil {
			return Manifest{}, fmt.Errorf("static file missing: %w", err)
		}
	}
	entries, err := os.ReadDir(static)
	if err != nil {
		return Manifest{}, fmt.Errorf("list static files: %w", err)
	}
	wasm, err := buildWasm(root)
	if err != nil {
		return Manifest{}, err
	}
	wasmExec, err := readWasmExec()
	if err != nil {
		return Manifest{}, err
	}
	if err := clean(out); err != nil {
		return Manifest{}, err
	}
	if err := os.MkdirAll(filepath.Join(out, hashedDir), 0o755); err != nil {
		return Manifest{}, fmt.Errorf("create %s: %w", out, err)
	}
	w := writer{out: out}
	man := Manifest{
		Wasm:     w.hashed("conjure", ".wasm", wasm),
		WasmExec: w.hashed("wasm_exec", ".js", wasmExec),
		Kernel:   w.hashed("sgemm", ".wasm", wasmgemm.Module()),
	}
	for _, name := range models.Names {
		info, err := shipModel(&w, name)
		if err != nil {
			return Manifest{}, err
		}
		man.Models = append(man.Models, info)
	}
	man.Model = man.Models[0]
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(static, e.Name()))
		if err != nil {
			return Manifest{}, fmt.Errorf("read static file: %w", err)
		}
		w.file(e.Name(), data)
	}
	w.file("assets.json", man.encode())
	return man, w.err
}

// shipModel writes the shipped model name as a hashed asset and describes
// it.
func shipModel(w *writer, name string) (ModelInfo, error) {
	weights, ok := models.Bytes(name)
	if !ok {
		return ModelInfo{}, fmt.Errorf("no shipped model %q", name)
	}
	m, err := model.Read(bytes.NewReader(weights), int64(len(weights)))
	if err != nil {
		return ModelInfo{}, fmt.Errorf("model %s: %w", models.FileName(name), err)
	}
	file := models.FileName(name)
	return ModelInfo{
		Name:       name,
		URL:        w.hashed(name, filepath.Ext(file), weights),
		SHA256:     sha256Hex(weights),
		Bytes:      int64(len(weights)),
		Resolution: m.Config().Resolution,
		Framed:     restore.Prior(m.Config()) == restore.PriorFace,
	}, nil
}

// clean removes what an earlier build wrote into out, so the site holds
// exactly what this build writes and assets.json names. Hidden entries stay:
// site/worker/dist keeps its committed .keep.
func clean(out string) error {
	entries, err := os.ReadDir(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clean %s: %w", out, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := os.RemoveAll(filepath.Join(out, e.Name())); err != nil {
			return fmt.Errorf("clean %s: %w", out, err)
		}
	}
	return nil
}

// moduleRoot returns the folder of the nearest go.mod above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: run inside the conjure module")
		}
		dir = parent
	}
}

// buildWasm compiles ./wasm for the browser and returns the binary.
// -trimpath keeps local paths out of the shipped file; -s drops the symbol
// table, which the browser never reads.
func buildWasm(root string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "conjure-site-")
	if err != nil {
		return nil, fmt.Errorf("temp folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "conjure.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", bin, "./wasm")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("GOOS=js GOARCH=wasm go build ./wasm: %w", err)
	}
	return os.ReadFile(bin)
}

// readWasmExec returns the wasm_exec.js of the Go that builds the wasm: the
// two must match, as the import object changes between Go releases. Go 1.24
// moved it from misc/wasm to lib/wasm.
func readWasmExec() ([]byte, error) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	p := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read Go's wasm_exec.js: %w", err)
	}
	return data, nil
}
