package gpu

import (
	"fmt"
	"time"

	"github.com/cogentcore/webgpu/wgpu"
)

// Buffer is a vector of float32 in a device storage buffer. It implements
// sampler.Vec for Backend. Only the Device that made it may use it.
type Buffer struct {
	d    *Device
	buf  *wgpu.Buffer
	n    int
	size uint64 // bytes of storage, ≥ 4n
}

// Len returns the number of elements.
func (b *Buffer) Len() int { return b.n }

// NewBuffer returns a zeroed buffer of n float32 elements.
func (d *Device) NewBuffer(n int) (*Buffer, error) { return d.newBuffer(n, n) }

// newBuffer returns a buffer of n elements backed by room ≥ n elements of
// storage (at least one, as WebGPU refuses empty bindings); tests fill the
// spare room with sentinels to catch out-of-bounds writes.
func (d *Device) newBuffer(n, room int) (*Buffer, error) {
	size := 4 * uint64(max(room, 1))
	if size > d.limits.MaxStorageBufferBindingSize || size > d.limits.MaxBufferSize {
		return nil, fmt.Errorf("gpu: buffer of %d float32 exceeds the device limits (%d bytes per binding, %d per buffer)",
			room, d.limits.MaxStorageBufferBindingSize, d.limits.MaxBufferSize)
	}
	buf, err := d.dev.CreateBuffer(&wgpu.BufferDescriptor{
		Size:  size,
		Usage: wgpu.BufferUsageStorage | wgpu.BufferUsageCopySrc | wgpu.BufferUsageCopyDst,
	})
	if err != nil {
		return nil, fmt.Errorf("gpu: create buffer of %d float32: %w", room, err)
	}
	b := &Buffer{d: d, buf: buf, n: n, size: size}
	d.buffers[b] = struct{}{}
	return b, nil
}

// newBufferBytes returns a buffer holding data, 4-byte elements (tables
// of int32 or uint32) that are uploaded as they are.
func (d *Device) newBufferBytes(data []byte) (*Buffer, error) {
	b, err := d.NewBuffer(len(data) / 4)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 {
		if err := queueWrite(d.queue, b.buf, 0, data); err != nil {
			b.Destroy()
			return nil, fmt.Errorf("gpu: write table: %w", err)
		}
	}
	return b, nil
}

// Write converts src to float32 and copies it into b; len(src) must equal
// b.Len(). Work recorded earlier is submitted first, so it still sees the
// old contents.
func (b *Buffer) Write(src []float64) error {
	if len(src) != b.n {
		panic(fmt.Sprintf("gpu: write of %d values into a buffer of %d", len(src), b.n))
	}
	return b.write(0, src)
}

// write copies src, converted to float32, to element off of b.
func (b *Buffer) write(off int, src []float64) error {
	d := b.d
	if err := d.Flush(); err != nil {
		return err
	}
	d.f32 = d.f32[:0]
	for _, v := range src {
		d.f32 = append(d.f32, float32(v))
	}
	if len(d.f32) == 0 {
		return nil
	}
	if err := queueWrite(d.queue, b.buf, 4*uint64(off), wgpu.ToBytes(d.f32)); err != nil {
		return fmt.Errorf("gpu: write buffer: %w", err)
	}
	return nil
}

// Read submits the pending work, waits for it, and copies b, converted to
// float64, into dst; len(dst) must equal b.Len().
func (b *Buffer) Read(dst []float64) error {
	if len(dst) != b.n {
		panic(fmt.Sprintf("gpu: read of a buffer of %d into %d values", b.n, len(dst)))
	}
	return b.read(dst)
}

// read copies the first len(dst) elements of b into dst, which may reach
// into the spare room of a test buffer.
func (b *Buffer) read(dst []float64) error {
	return b.readInto(len(dst), func(f []float32) {
		for i, v := range f {
			dst[i] = float64(v)
		}
	})
}

// readInto submits the pending work, copies the first n elements of b to
// the staging buffer, waits, and hands them to use while mapped.
func (b *Buffer) readInto(n int, use func([]float32)) error {
	if n == 0 {
		return nil
	}
	d := b.d
	size := 4 * uint64(n)
	if d.staging == nil || d.stagingSize < size {
		if d.staging != nil {
			d.staging.Destroy()
			d.staging.Release()
			d.staging = nil
		}
		s, err := d.dev.CreateBuffer(&wgpu.BufferDescriptor{
			Label: "readback",
			Size:  size,
			Usage: wgpu.BufferUsageMapRead | wgpu.BufferUsageCopyDst,
		})
		if err != nil {
			return fmt.Errorf("gpu: create readback buffer: %w", err)
		}
		d.staging, d.stagingSize = s, size
	}
	if err := d.copyEncoder(); err != nil {
		return err
	}
	if err := d.enc.CopyBufferToBuffer(b.buf, 0, d.staging, 0, size); err != nil {
		d.dropBatch()
		return fmt.Errorf("gpu: copy for readback: %w", err)
	}
	if err := d.Flush(); err != nil {
		return err
	}
	return d.mapRead(size, use)
}

// mapTimeout bounds the wait for a readback, so that a hung device gives
// an error rather than a hang; software adapters need minutes for work a
// GPU does in milliseconds.
const mapTimeout = 10 * time.Minute

// mapRead maps the first size bytes of the staging buffer, waits for the
// queue (native: non-blocking polls until the map completes), hands them to
// use as float32, and unmaps.
func (d *Device) mapRead(size uint64, use func([]float32)) error {
	var status wgpu.BufferMapAsyncStatus
	done := false
	err := d.staging.MapAsync(wgpu.MapModeRead, 0, size, func(s wgpu.BufferMapAsyncStatus) { status, done = s, true })
	if err != nil {
		return fmt.Errorf("gpu: map readback buffer: %w", err)
	}
	// Poll without blocking until the map completes. A blocking poll of
	// wgpu-core before v25 gives up after 5 s (CLEANUP_WAIT_MS) and then
	// treats the submission as finished: the map completes with stale data
	// and buffers still in use are freed, crashing lavapipe
	// (https://github.com/gfx-rs/wgpu/issues/4589, issues/5000). One batch
	// of network evaluations on lavapipe runs longer than that. The js
	// binding maps synchronously, so done is already set there.
	start := time.Now()
	for wait := 50 * time.Microsecond; !done; wait = min(2*wait, 10*time.Millisecond) {
		if time.Since(start) > mapTimeout {
			return fmt.Errorf("gpu: map readback buffer: no answer after waiting %v for the queue", mapTimeout)
		}
		d.dev.Poll(false, nil)
		if !done {
			time.Sleep(wait)
		}
	}
	if status != wgpu.BufferMapAsyncStatusSuccess {
		return fmt.Errorf("gpu: map readback buffer: status %v", status)
	}
	// In the browser a failed dispatch only raises an event, delivered
	// while the map was awaited: report it rather than stale contents.
	if d.lastError != nil {
		if err := d.lastError(); err != nil {
			d.staging.Unmap()
			return err
		}
	}
	use(wgpu.FromBytes[float32](d.staging.GetMappedRange(0, uint(size))))
	if err := d.staging.Unmap(); err != nil {
		return fmt.Errorf("gpu: unmap readback buffer: %w", err)
	}
	return nil
}

// Destroy frees b's device memory now, after submitting the work that
// uses it, rather than waiting for the collector (which never frees
// device memory on js). b must not be used afterwards.
func (b *Buffer) Destroy() error {
	err := b.d.Flush()
	for key, bg := range b.d.bindGroups {
		for _, u := range key.bufs {
			if u == b.buf {
				bg.Release()
				delete(b.d.bindGroups, key)
				break
			}
		}
	}
	delete(b.d.buffers, b)
	b.free()
	return err
}

func (b *Buffer) free() {
	b.buf.Destroy()
	b.buf.Release()
	b.buf = nil
}
