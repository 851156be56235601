package engine

import (
	"bytes"
	"errors"
	"fmt"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/model"
	"conjure/sampler"
)

// Backend names, as the JavaScript API reports them.
const (
	WebGPU = "webgpu"
	CPU    = "cpu"
)

// Engine holds a model and the backend that runs it.
type Engine struct {
	m       *model.Model
	bytes   int
	backend string // WebGPU or CPU
	adapter string // the GPU's description, or "cpu"
	notice  string // why the CPU runs, when it does

	b   sampler.Backend
	dev *gpu.Device // nil on the CPU
	net *gpu.Net
	// probe is read back after each step on the GPU, so that progress
	// reports work done rather than work recorded.
	probe *gpu.Buffer
}

// Info describes an Engine for the page.
type Info struct {
	Backend    string // WebGPU or CPU
	Adapter    string // the GPU's description, or "cpu"
	Resolution int    // R: the output is R×R
	Bytes      int    // size of the weight file
	Notice     string // why the engine runs on the CPU; empty on the GPU
}

// Load parses the weight file weights and opens a backend for it: the GPU
// when preferGPU is set and an adapter exists, else the CPU, with a notice
// saying why.
func Load(weights []byte, preferGPU bool) (*Engine, error) {
	m, err := model.Read(bytes.NewReader(weights), int64(len(weights)))
	if err != nil {
		return nil, fmt.Errorf("the model file is not a Conjure weight file (%v): reload the page, or pass the URL of a .safetensors file made by train.export", err)
	}
	e := &Engine{m: m, bytes: len(weights)}
	if !preferGPU {
		e.useCPU("The CPU backend was requested.")
		return e, nil
	}
	if err := e.openGPU(); err != nil {
		e.useCPU(cpuNotice(err))
	}
	return e, nil
}

// cpuNotice says, for a person, why the GPU could not be used.
func cpuNotice(err error) string {
	if errors.Is(err, gpu.ErrNoAdapter) {
		return fmt.Sprintf("No WebGPU adapter (%v), so Conjure runs on the CPU, which is much slower. Use a browser with WebGPU enabled (Chrome or Edge 113+, Safari 26+, or Firefox 141+ on Windows) for GPU speed.", err)
	}
	return fmt.Sprintf("WebGPU is present but failed (%v), so Conjure runs on the CPU, which is much slower.", err)
}

// openGPU opens the device, uploads the network and compiles the kernels.
func (e *Engine) openGPU() error {
	d, err := gpu.Open()
	if err != nil {
		return err
	}
	net, err := gpu.NewNet(d, e.m)
	if err != nil {
		d.Close()
		return err
	}
	b, err := gpu.NewBackend(d, net)
	if err == nil {
		e.probe, err = d.NewBuffer(1)
	}
	if err != nil {
		net.Destroy()
		d.Close()
		return err
	}
	e.b, e.dev, e.net = b, d, net
	e.backend, e.adapter, e.notice = WebGPU, d.Name(), ""
	return nil
}

// useCPU switches to the CPU backend and records why.
func (e *Engine) useCPU(why string) {
	e.closeGPU()
	e.b = cpu.New(e.m.NewRunner())
	e.backend, e.adapter, e.notice = CPU, CPU, why
}

// closeGPU frees the GPU backend, if open.
func (e *Engine) closeGPU() {
	if e.dev == nil {
		return
	}
	e.net.Destroy()
	e.dev.Close()
	e.dev, e.net, e.probe = nil, nil, nil
}

// Info describes the engine.
func (e *Engine) Info() Info {
	return Info{Backend: e.backend, Adapter: e.adapter, Resolution: e.m.Config().Resolution, Bytes: e.bytes, Notice: e.notice}
}

// Close frees the backend's device memory; the Engine must not be used
// afterwards.
func (e *Engine) Close() { e.closeGPU() }
