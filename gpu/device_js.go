//go:build js

package gpu

import (
	"fmt"
	"strings"
	"syscall/js"

	"github.com/cogentcore/webgpu/wgpu"

	"conjure/wasm/jspromise"
)

// openAdapter opens a device through navigator.gpu with syscall/js rather
// than the binding's RequestAdapter: the binding reports no adapter
// information and no errors, while the device's uncapturederror event and
// lost promise are the only way the browser reports a failed dispatch.
// It must run on a goroutine that may block (not inside a js.FuncOf
// callback): it awaits the browser's promises.
func openAdapter() (handles, error) {
	navGPU := js.Global().Get("navigator").Get("gpu")
	if !navGPU.Truthy() {
		return handles{}, fmt.Errorf("%w: this browser has no WebGPU (navigator.gpu is missing)", ErrNoAdapter)
	}
	ad, err := jspromise.Await(navGPU.Call("requestAdapter", map[string]any{"powerPreference": "high-performance"}))
	if err == nil && !ad.Truthy() {
		ad, err = jspromise.Await(navGPU.Call("requestAdapter"))
	}
	if err != nil {
		return handles{}, fmt.Errorf("%w: requestAdapter: %v", ErrNoAdapter, err)
	}
	if !ad.Truthy() {
		return handles{}, fmt.Errorf("%w: navigator.gpu.requestAdapter() found none (WebGPU disabled or the GPU blocklisted)", ErrNoAdapter)
	}
	jd, err := jspromise.Await(ad.Call("requestDevice"))
	if err != nil {
		return handles{}, fmt.Errorf("gpu: request device: %w", err)
	}
	errs := &deviceErrors{}
	errs.watch(jd)
	dev := wgpu.NewDevice(jd)
	return handles{dev: &dev, name: browserAdapterName(ad), fallback: browserFallback(ad), lastError: errs.first}, nil
}

// browserFallback reports a software fallback adapter: by
// GPUAdapterInfo.isFallbackAdapter (or the older GPUAdapter attribute)
// where the browser has it, else by its name (current Chromium dropped the
// attribute but still describes SwiftShader).
func browserFallback(ad js.Value) bool {
	if f := ad.Get("isFallbackAdapter"); f.Type() == js.TypeBoolean && f.Bool() {
		return true
	}
	info := ad.Get("info")
	if !info.Truthy() {
		return false
	}
	if f := info.Get("isFallbackAdapter"); f.Type() == js.TypeBoolean && f.Bool() {
		return true
	}
	var desc []string
	for _, k := range []string{"vendor", "architecture", "description", "device"} {
		if v := info.Get(k); v.Type() == js.TypeString {
			desc = append(desc, v.String())
		}
	}
	return IsSoftware(desc...)
}

// browserAdapterName describes a GPUAdapter from its info, e.g. "google
// swiftshader (webgpu)".
func browserAdapterName(ad js.Value) string {
	var parts []string
	if info := ad.Get("info"); info.Truthy() {
		for _, k := range []string{"vendor", "architecture", "description"} {
			if v := info.Get(k); v.Type() == js.TypeString && v.String() != "" {
				parts = append(parts, v.String())
			}
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "unknown adapter")
	}
	return strings.Join(parts, " ") + " (webgpu)"
}

// deviceErrors keeps the first error a browser device reported by event.
// The js callbacks and the goroutines share one thread, so it needs no
// lock.
type deviceErrors struct{ err error }

// watch listens for jd's uncaptured errors and its loss. The callbacks
// live as long as the device: a Worker opens one device for its lifetime.
func (e *deviceErrors) watch(jd js.Value) {
	jd.Call("addEventListener", "uncapturederror", js.FuncOf(func(_ js.Value, args []js.Value) any {
		e.set(fmt.Errorf("gpu: device error: %s", args[0].Get("error").Get("message").String()))
		return nil
	}))
	jd.Get("lost").Call("then", js.FuncOf(func(_ js.Value, args []js.Value) any {
		e.set(fmt.Errorf("gpu: device lost (%s): %s", args[0].Get("reason").String(), args[0].Get("message").String()))
		return nil
	}))
}

func (e *deviceErrors) set(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *deviceErrors) first() error { return e.err }

// defaultTileBatchBytes is TileBatchBytes's default in a browser, where a
// tab shares the GPU's memory with the rest of the machine.
const defaultTileBatchBytes = 256 << 20

// queueWrite copies data into buf at byte offset off through q, trying
// twice. The binding hands writeBuffer a view of the WebAssembly memory
// made before the call's other arguments are converted; if that
// conversion grows the memory, the view is detached and the browser
// refuses the write ("Number of bytes to write is too large"). A second
// view, made after the growth, is valid.
func queueWrite(q *wgpu.Queue, buf *wgpu.Buffer, off uint64, data []byte) error {
	err := tryWrite(q, buf, off, data)
	if err != nil && strings.Contains(err.Error(), "too large") {
		err = tryWrite(q, buf, off, data)
	}
	return err
}

// tryWrite is q.WriteBuffer with the JavaScript exception it throws
// returned as an error.
func tryWrite(q *wgpu.Queue, buf *wgpu.Buffer, off uint64, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			je, ok := r.(js.Error)
			if !ok {
				panic(r)
			}
			err = je
		}
	}()
	return q.WriteBuffer(buf, off, data)
}
