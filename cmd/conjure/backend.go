package main

import (
	"errors"
	"flag"
	"fmt"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/model"
	"conjure/sampler"
	"conjure/tile"
)

// gpuMiBFlag defines --gpu-mib on fs and returns a function that checks
// it and sets gpu.TileBatchBytes to it (its default is the current value).
func gpuMiBFlag(fs *flag.FlagSet) func() error {
	mib := fs.Int("gpu-mib", gpu.TileBatchBytes>>20, "`MiB` of GPU memory for one batch of tiles' activations: an image whose tiles all fit is evaluated once a step, not twice")
	return func() error {
		if *mib < 1 || *mib > 1<<20 {
			return fmt.Errorf("--gpu-mib %d: want 1 to %d (MiB)", *mib, 1<<20)
		}
		gpu.TileBatchBytes = *mib << 20
		return nil
	}
}

// openBackend returns the backend called name running m, and a function
// that frees it.
func openBackend(name string, m *model.Model) (sampler.Backend, func(), error) {
	switch name {
	case "cpu":
		return newCPUBackend(m), func() {}, nil
	case "gpu":
		_, _, b, closeGPU, err := openGPU(m)
		if err != nil {
			return nil, nil, err
		}
		return b, closeGPU, nil
	}
	return nil, nil, fmt.Errorf("unknown backend %q: want cpu or gpu", name)
}

// newCPUBackend returns the CPU backend running m's reference network.
func newCPUBackend(m *model.Model) sampler.Backend { return cpu.New(m.NewRunner()) }

// errNoAdapter is the message for a GPU run on a machine without one.
var errNoAdapter = errors.New("no WebGPU adapter: install a Vulkan driver (on Debian: mesa-vulkan-drivers) or use --backend cpu")

// openGPU opens the device, uploads m and makes a Backend on it; the
// function it returns frees them all.
func openGPU(m *model.Model) (*gpu.Device, *gpu.Net, *gpu.Backend, func(), error) {
	d, err := gpu.Open()
	if errors.Is(err, gpu.ErrNoAdapter) {
		return nil, nil, nil, nil, errNoAdapter
	}
	if err != nil {
		return nil, nil, nil, nil, err
	}
	net, err := gpu.NewNet(d, m)
	if err != nil {
		d.Close()
		return nil, nil, nil, nil, err
	}
	b, err := gpu.NewBackend(d, net)
	if err != nil {
		net.Destroy()
		d.Close()
		return nil, nil, nil, nil, err
	}
	return d, net, b, func() { net.Destroy(); d.Close() }, nil
}

// openTiledGPU opens the device with m's TiledNet over the grid g and a
// Backend on it; the function it returns frees them all.
func openTiledGPU(m *model.Model, g *tile.Grid) (*gpu.Device, *gpu.TiledNet, *gpu.Backend, func(), error) {
	d, err := openDevice()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	tn, err := gpu.NewTiledNet(d, m, g)
	if err != nil {
		d.Close()
		return nil, nil, nil, nil, fmt.Errorf("%w (a smaller --gpu-mib, now %d, evaluates fewer tiles at once)", err, gpu.TileBatchBytes>>20)
	}
	b, err := gpu.NewBackend(d, tn)
	if err != nil {
		d.Close() // which frees everything on the device
		return nil, nil, nil, nil, err
	}
	return d, tn, b, d.Close, nil
}

// guard runs f, turning a panic of the GPU backend (whose Backend methods
// cannot return errors) into an error.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the backend failed: %v", r)
		}
	}()
	return f()
}
