package operator

import (
	"fmt"
	"math"
	"slices"
	"unsafe"
)

// Limits on what constructors accept. They keep allocations bounded for any
// input: images are planar slices indexed by int, and the SVD-based
// operators hold dense 1-D matrices and factorize them in O(n³).
const (
	// MaxElements is the largest image (C·H·W) or measurement any
	// constructor accepts.
	MaxElements = 1 << 28
	// MaxSide is the largest number of rows or columns of the dense 1-D
	// matrices of BicubicSR, Blur and Dense (image sides for the first two).
	MaxSide = 4096
)

// Messages of the panics that report programmer errors.
const (
	errDstLen  = "operator: dst length mismatch"
	errSrcLen  = "operator: source length mismatch"
	errOverlap = "operator: dst overlaps the source"
	errNoise   = "operator: noise variance negative, infinite or NaN"
)

// errorf returns an error whose message starts with the package name, as all
// of this package's errors do.
func errorf(format string, args ...any) error {
	return fmt.Errorf("operator: "+format, args...)
}

// shape is the (C, H, W) of the images an operator acts on.
type shape struct{ c, h, w int }

// In returns C·H·W, the length of an image.
func (s shape) In() int { return s.c * s.h * s.w }

// Shape returns the channels, height and width of the images the operator
// acts on.
func (s shape) Shape() (c, h, w int) { return s.c, s.h, s.w }

// newShape validates an image shape: positive sizes whose product is at most
// MaxElements. Dividing instead of multiplying keeps the check free of
// overflow.
func newShape(c, h, w int) (shape, error) {
	if c <= 0 || h <= 0 || w <= 0 {
		return shape{}, errorf("image shape c=%d, h=%d, w=%d must be positive", c, h, w)
	}
	if h > MaxElements/c || w > MaxElements/(c*h) {
		return shape{}, errorf("image shape c=%d, h=%d, w=%d exceeds %d elements", c, h, w, MaxElements)
	}
	return shape{c, h, w}, nil
}

// newSRShape validates the image shape and factor of a super-resolution
// task: the factor one of allowed, dividing both image sides.
func newSRShape(task string, c, h, w, factor int, allowed ...int) (shape, error) {
	s, err := newShape(c, h, w)
	if err != nil {
		return shape{}, err
	}
	if !slices.Contains(allowed, factor) {
		return shape{}, errorf("%s factor %d is not one of %v", task, factor, allowed)
	}
	if h%factor != 0 || w%factor != 0 {
		return shape{}, errorf("%s factor %d does not divide h=%d and w=%d", task, factor, h, w)
	}
	return s, nil
}

// checkLens panics unless dst and src have the lengths a method documents
// and do not overlap.
func checkLens(dst []float64, nDst int, src []float64, nSrc int) {
	if len(dst) != nDst {
		panic(errDstLen)
	}
	if len(src) != nSrc {
		panic(errSrcLen)
	}
	if overlaps(dst, src) {
		panic(errOverlap)
	}
}

// overlaps reports whether a and b share memory. The comparison of
// addresses is safe because Go's collector does not move heap objects (as in
// gonum's mat.offset).
func overlaps(a, b []float64) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	const size = unsafe.Sizeof(float64(0))
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(a)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+uintptr(len(b))*size && b0 < a0+uintptr(len(a))*size
}

// finite reports whether every v is neither NaN nor infinite.
func finite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
