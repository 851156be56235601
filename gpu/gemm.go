package gpu

import (
	"fmt"
	"time"
)

// gemmParams mirrors struct Params of shaders/gemm.wgsl.
type gemmParams struct {
	M, N, K, Pad0 uint32
}

var gemmFwd = &kernel{file: "gemm.wgsl", entry: "gemm_fwd", wg: defaultWG,
	storage: []access{readWrite, readOnly, readOnly}, params: 16}

// gemm records c = a·b for row-major a (m×k) and b (k×n); m, n and k must
// be multiples of 4.
func (d *Device) gemm(c, a, b *Buffer, m, n, k int) error {
	if m%4 != 0 || n%4 != 0 || k%4 != 0 || a.n != m*k || b.n != k*n || c.n != m*n {
		panic(fmt.Sprintf("gpu: gemm of %d×%d by %d×%d into %d values", m, k, k, n, c.n))
	}
	g, err := d.grid(m*n/16, gemmFwd.wg)
	if err != nil {
		return err
	}
	return dispatch(d, gemmFwd, g, &gemmParams{M: uint32(m), N: uint32(n), K: uint32(k)}, c, a, b)
}

// MatmulRate returns the rate in FLOP/s (2 per multiply-add) of a plain
// register-blocked float32 n×n×n matrix product on d, the yardstick of
// `conjure bench`: the best of runs timed submissions of reps products
// each, with reps chosen so that one submission takes at least minTime.
// n must be a multiple of 4.
func (d *Device) MatmulRate(n, runs int, minTime time.Duration) (float64, error) {
	bufs := make([]*Buffer, 3)
	for i := range bufs {
		b, err := d.NewBuffer(n * n)
		if err != nil {
			return 0, err
		}
		defer b.Destroy()
		bufs[i] = b
	}
	ones := make([]float64, n*n)
	for i := range ones {
		ones[i] = 1
	}
	for _, b := range bufs[1:] {
		if err := b.Write(ones); err != nil {
			return 0, err
		}
	}
	time1 := func(reps int) (time.Duration, error) {
		start := time.Now()
		for range reps {
			if err := d.gemm(bufs[0], bufs[1], bufs[2], n, n, n); err != nil {
				return 0, err
			}
		}
		err := bufs[0].readInto(1, func([]float32) {})
		return time.Since(start), err
	}
	// The first product compiles the pipeline and sizes the batch.
	t, err := time1(1)
	if err != nil {
		return 0, err
	}
	reps := max(1, int(minTime/max(t, time.Microsecond))+1)
	best := time.Duration(1<<63 - 1)
	for range runs {
		if t, err = time1(reps); err != nil {
			return 0, err
		}
		best = min(best, t)
	}
	return 2 * float64(n) * float64(n) * float64(n) * float64(reps) / best.Seconds(), nil
}
