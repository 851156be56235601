package operator

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzNew builds operators from arbitrary parameters and checks that no
// constructor panics and that every operator built obeys the laws.
//
// kind%6 picks the constructor; bit 0x40 picks a variant (per-entry mask,
// kernel from data instead of a Gaussian); bit 0x80 passes c, h, w and factor
// through raw, to exercise validation, instead of reducing them to small
// valid-looking sizes. threshold and sigma are always raw. Mask bits, kernel
// taps and matrix entries come from data.
func FuzzNew(f *testing.F) {
	f.Add(uint8(0), 3, 5, 7, 0, 0.0, 0.0, []byte{0b10110101, 0xff})
	f.Add(uint8(0x40), 2, 4, 4, 0, 0.0, 0.0, []byte{0, 0, 1})
	f.Add(uint8(1), 3, 1, 2, 1, 0.0, 0.0, []byte(nil))
	f.Add(uint8(2), 1, 2, 5, 1, 0.0, 0.0, []byte(nil))
	f.Add(uint8(3), 2, 9, 13, 3, DefaultBlurThreshold, 1.5, []byte(nil))
	f.Add(uint8(0x43), 1, 7, 5, 0, 1e-2, 0.0, []byte{40, 200, 90})
	f.Add(uint8(3), 1, 30, 30, 12, 0.0, 4.0, []byte(nil))
	f.Add(uint8(4), 3, 6, 2, 0, 0.0, 0.0, []byte(nil))
	f.Add(uint8(5), 1, 3, 4, 0, 0.0, 0.0, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	f.Add(uint8(5), 2, 4, 4, 0, 0.0, 0.0, []byte{3, 3, 3, 3, 3})
	f.Add(uint8(0x80), -1, 1<<40, 3, 0, 0.0, 0.0, []byte{1})
	f.Add(uint8(0x82), 1, 8, 8, 3, 0.0, 0.0, []byte(nil))
	f.Add(uint8(0x83), 1, 1<<30, 1, 0, -1.0, -2.0, []byte{1, 2})
	f.Fuzz(func(t *testing.T, kind uint8, c, h, w, factor int, threshold, sigma float64, data []byte) {
		raw := kind&0x80 != 0
		if raw && costly(c, h, w) {
			return // valid but too large to check quickly
		}
		if !raw {
			c, h, w = 1+int(uint(c)%4), 1+int(uint(h)%40), 1+int(uint(w)%40)
		}
		op, err := fuzzBuild(kind, c, h, w, factor, threshold, sigma, data, raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "operator: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		checkLaws(t, op, rand.New(rand.NewPCG(uint64(len(data)), uint64(kind))))
	})
}

// fuzzBuild calls the constructor kind%6 selects.
func fuzzBuild(kind uint8, c, h, w, factor int, threshold, sigma float64, data []byte, raw bool) (Operator, error) {
	variant := kind&0x40 != 0
	switch kind % 6 {
	case 0:
		n := h * w
		if variant {
			n *= c
		}
		if n < 0 || n > 1<<15 {
			n = len(data) // raw sizes the constructor rejects anyway
		}
		var keep []bool
		if len(data) > 0 {
			keep = make([]bool, n)
			for i := range keep {
				keep[i] = data[i/8%len(data)]>>(i%8)&1 == 1
			}
		}
		return NewInpaint(c, h, w, keep)
	case 1, 2:
		if !raw {
			// A factor that divides the reduced sizes, so that most
			// inputs build an operator.
			factor = []int{2, 4, 8}[uint(factor)%3]
			if kind%6 == 2 {
				factor = []int{2, 4}[uint(factor)%2]
			}
			h, w = factor*(1+h%(32/factor)), factor*(1+w%(32/factor))
		}
		if kind%6 == 1 {
			return NewBoxSR(c, h, w, factor)
		}
		return NewBicubicSR(c, h, w, factor)
	case 3:
		if !variant {
			radius := factor
			if !raw {
				radius = int(uint(factor) % 20)
			}
			kernel, err := GaussianKernel(sigma, radius)
			if err != nil {
				return nil, err
			}
			return NewBlur(c, h, w, kernel, threshold)
		}
		n := len(data)
		if !raw {
			n = min(n, h, w)
			n -= 1 - n%2 // odd, or -1 for no data
		}
		kernel := make([]float64, max(n, 0))
		for i := range kernel {
			kernel[i] = float64(data[i])/255 - 0.2
		}
		return NewBlur(c, h, w, kernel, threshold)
	case 4:
		return NewGray(c, h, w)
	}
	m, d := 1+h%6, 1+w%6
	if raw {
		m, d = c, h
		if m > 64 || d > 64 {
			m, d = MaxSide+1, 1 // rejected, and cheap to allocate
		}
	}
	if m <= 0 || len(data) == 0 {
		return NewDense(nil)
	}
	rows := make([][]float64, m)
	for i := range rows {
		rows[i] = make([]float64, max(d, 0))
		for j := range rows[i] {
			rows[i][j] = float64(int8(data[(i*d+j)%len(data)])) / 32
		}
	}
	return NewDense(rows)
}

// costly reports whether c, h, w form a valid shape too large for a quick
// law check (or, for the SVD-based operators, a quick factorization).
func costly(c, h, w int) bool {
	if c <= 0 || h <= 0 || w <= 0 || h > MaxElements/c || w > MaxElements/(c*h) {
		return false
	}
	return c*h*w > 1<<14 || h > 128 || w > 128
}
