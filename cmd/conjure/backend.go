package main

import (
	"errors"
	"fmt"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/model"
	"conjure/sampler"
)

// openBackend returns the backend called name running m, and a function
// that frees it.
func openBackend(name string, m *model.Model) (sampler.Backend, func(), error) {
	switch name {
	case "cpu":
		return cpu.New(m.NewRunner()), func() {}, nil
	case "gpu":
		d, err := gpu.Open()
		if errors.Is(err, gpu.ErrNoAdapter) {
			return nil, nil, errors.New("no WebGPU adapter: install a Vulkan driver (on Debian: mesa-vulkan-drivers) or use --backend cpu")
		}
		if err != nil {
			return nil, nil, err
		}
		net, err := gpu.NewNet(d, m)
		if err != nil {
			d.Close()
			return nil, nil, err
		}
		b, err := gpu.NewBackend(d, net)
		if err != nil {
			net.Destroy()
			d.Close()
			return nil, nil, err
		}
		return b, func() { net.Destroy(); d.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown backend %q: want cpu or gpu", name)
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
