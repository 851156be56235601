package engine

import (
	"bytes"
	"errors"
	"fmt"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/model"
	"conjure/restore"
	"conjure/sampler"
	"conjure/tile"
)

// Backend names, as the JavaScript API reports them.
const (
	WebGPU = "webgpu"
	CPU    = "cpu"
)

// Engine holds a model and the backend that runs it.
type Engine struct {
	m       *model.Model
	prior   string // restore.PriorPhoto (whole photos on tiles) or restore.PriorFace (framed)
	bytes   int
	backend string // WebGPU or CPU
	adapter string // the GPU's description, or "cpu"
	notice  string // why the CPU runs, when it does

	// framed is the CPU backend of a framed model: its one network is
	// allocated once. Whole photos get a tiled network per restore, since
	// the tiling depends on the photo's size.
	framed sampler.Backend
	// pool runs a photo model's tiles on other threads; nil runs them here.
	pool Pool

	dev *gpu.Device // nil on the CPU
	gb  *gpu.Backend
	// slot is the network gb runs: the framed model's Net for good, or a
	// photo's TiledNet for one restore. One Backend for the engine's life
	// keeps its scratch buffers, which nothing else could free.
	slot *netSlot
	net  *gpu.Net // the framed model's network; nil for a photo model
	// probe is read back to wait for the device, so that progress reports
	// work done rather than work recorded.
	probe *gpu.Buffer

	cost costs // measured times, for Plan's estimates
}

// netSlot is a gpu.Network whose implementation the engine swaps.
type netSlot struct{ gpu.Network }

// Info describes an Engine for the page.
type Info struct {
	Backend    string // WebGPU or CPU
	Adapter    string // the GPU's description, or "cpu"
	Resolution int    // R: the network's tile side; a framed model's output is R×R
	Bytes      int    // size of the weight file
	// Framed reports a model with attention, which restores the R×R frame
	// of the input's centred square; a local model restores whole photos.
	Framed bool
	Notice string // why the engine runs on the CPU; empty on the GPU
	// Threads is how many threads a CPU restore runs on (its pool's
	// workers); 1 on the GPU.
	Threads int
}

// The backend choices of Load.
const (
	// Auto uses a hardware WebGPU adapter, else the CPU: a software
	// fallback adapter (SwiftShader) is slower than the CPU path.
	Auto = "auto"
	// ForceWebGPU uses any WebGPU adapter, a software fallback included.
	ForceWebGPU = "webgpu"
	// ForceCPU skips WebGPU.
	ForceCPU = "cpu"
)

// Load parses the weight file weights and opens a backend for it as
// backend (Auto, ForceWebGPU or ForceCPU) asks: the GPU when an adapter
// exists (and, with Auto, is not a software fallback), else the CPU, with
// a notice saying why.
func Load(weights []byte, backend string) (*Engine, error) {
	if backend != Auto && backend != ForceWebGPU && backend != ForceCPU {
		return nil, fmt.Errorf("backend %q: use %q, %q or %q", backend, Auto, ForceWebGPU, ForceCPU)
	}
	m, err := model.Read(bytes.NewReader(weights), int64(len(weights)))
	if err != nil {
		return nil, fmt.Errorf("the model file is not a Conjure weight file (%v): reload the page, or pass the URL of a .safetensors file made by train.export", err)
	}
	e := &Engine{m: m, prior: restore.Prior(m.Config()), bytes: len(weights)}
	if backend == ForceCPU {
		e.useCPU("The CPU backend was requested.")
		return e, nil
	}
	if err := e.openGPU(); err != nil {
		e.useCPU(cpuNotice(err))
		return e, nil
	}
	if backend == Auto && e.dev.Fallback() {
		e.useCPU(fmt.Sprintf("The only WebGPU adapter is a software fallback (%s), slower than Conjure's CPU path, so Conjure runs on the CPU. "+
			"A GPU with WebGPU enabled gives GPU speed; Conjure.load({backend: 'webgpu'}) or ?backend=webgpu forces the fallback adapter.", e.adapter))
		return e, nil
	}
	e.calibrate()
	return e, nil
}

// calibrate times one step of one tile on the GPU, a 1-step denoise of a
// grey R×R image, so that Plan estimates WebGPU restores before the first
// one. The time includes compiling the kernels, so the first estimate errs
// long until a restore refines it. A GPU that fails here moves the engine
// to the CPU, as a failed restore would.
func (e *Engine) calibrate() {
	res := e.m.Config().Resolution
	px := make([]byte, 4*res*res)
	for i := range px {
		px[i] = 128
	}
	// Its result is not needed, and a failure has already been dealt with:
	// a GPU failure moves the engine to the CPU with a notice.
	_, _ = e.Restore(Request{Task: string(restore.Denoise), Pixels: px, Width: res, Height: res, Steps: 1, Method: string(sampler.CPiGDM)}, nil, nil)
}

// cpuNotice says, for a person, why the GPU could not be used.
func cpuNotice(err error) string {
	if errors.Is(err, gpu.ErrNoAdapter) {
		return fmt.Sprintf("No WebGPU adapter (%v), so Conjure runs on the CPU, which is much slower. Use a browser with WebGPU enabled (Chrome or Edge 113+, Safari 26+, or Firefox 141+ on Windows) for GPU speed.", err)
	}
	return fmt.Sprintf("WebGPU is present but failed (%v), so Conjure runs on the CPU, which is much slower.", err)
}

// openGPU opens the device, uploads the network and compiles the kernels.
// A photo model's tiled network is made per restore; here one of a single
// tile is made and freed, so that a device that cannot run the model
// fails now and the engine falls back to the CPU before any restore.
func (e *Engine) openGPU() error {
	d, err := gpu.Open()
	if err != nil {
		return err
	}
	slot := &netSlot{}
	var net *gpu.Net
	if e.prior == restore.PriorFace {
		net, err = gpu.NewNet(d, e.m)
		slot.Network = net
	} else {
		err = checkTiledNet(d, e.m)
	}
	var gb *gpu.Backend
	var probe *gpu.Buffer
	if err == nil {
		gb, err = gpu.NewBackend(d, slot)
	}
	if err == nil {
		probe, err = d.NewBuffer(1)
	}
	if err != nil {
		if net != nil {
			net.Destroy()
		}
		d.Close()
		return err
	}
	e.dev, e.gb, e.slot, e.net, e.probe = d, gb, slot, net, probe
	e.backend, e.adapter, e.notice = WebGPU, d.Name(), ""
	return nil
}

// checkTiledNet makes and frees the tiled network of one tile.
func checkTiledNet(d *gpu.Device, m *model.Model) error {
	res := m.Config().Resolution
	g, err := tile.NewGrid(res, res, res, tile.DefaultOverlap(res))
	if err != nil {
		return err
	}
	tn, err := gpu.NewTiledNet(d, m, g)
	if err != nil {
		return err
	}
	tn.Destroy()
	return nil
}

// useCPU switches to the CPU backend and records why.
func (e *Engine) useCPU(why string) {
	e.closeGPU()
	if e.prior == restore.PriorFace {
		e.framed = cpu.New(e.m.NewRunner())
	}
	e.backend, e.adapter, e.notice = CPU, CPU, why
}

// closeGPU frees the GPU backend, if open. Closing the device frees every
// buffer on it, the backend's scratch buffers included.
func (e *Engine) closeGPU() {
	if e.dev == nil {
		return
	}
	if e.net != nil {
		e.net.Destroy()
	}
	e.dev.Close()
	e.dev, e.gb, e.slot, e.net, e.probe = nil, nil, nil, nil, nil
}

// Info describes the engine.
func (e *Engine) Info() Info {
	return Info{Backend: e.backend, Adapter: e.adapter, Resolution: e.m.Config().Resolution, Bytes: e.bytes,
		Framed: e.prior == restore.PriorFace, Notice: e.notice, Threads: e.Threads()}
}

// Close frees the backend's device memory; the Engine must not be used
// afterwards.
func (e *Engine) Close() { e.closeGPU() }
