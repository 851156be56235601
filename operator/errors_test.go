package operator

import (
	"math"
	"strings"
	"testing"
)

func TestConstructorErrors(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	huge := math.MaxInt
	errOf := func(_ any, err error) error { return err }
	for _, tc := range []struct {
		name string
		call func() error
		want string // a word of the message that names the problem
	}{
		{"inpaint/c=0", func() error { return errOf(NewInpaint(0, 2, 2, make([]bool, 4))) }, "positive"},
		{"inpaint/h<0", func() error { return errOf(NewInpaint(1, -2, 2, make([]bool, 4))) }, "positive"},
		{"inpaint/overflow", func() error { return errOf(NewInpaint(huge, huge, huge, nil)) }, "exceeds"},
		{"inpaint/too-large", func() error { return errOf(NewInpaint(1<<10, 1<<10, 1<<9, nil)) }, "exceeds"},
		{"inpaint/mask-length", func() error { return errOf(NewInpaint(3, 2, 2, make([]bool, 5))) }, "mask has length"},
		{"inpaint/nil-mask", func() error { return errOf(NewInpaint(1, 2, 2, nil)) }, "mask has length"},
		{"inpaint/all-holes", func() error { return errOf(NewInpaint(2, 2, 2, make([]bool, 8))) }, "keeps no entry"},
		{"box/f=3", func() error { return errOf(NewBoxSR(1, 6, 6, 3)) }, "factor 3"},
		{"box/f=0", func() error { return errOf(NewBoxSR(1, 6, 6, 0)) }, "factor 0"},
		{"box/f=16", func() error { return errOf(NewBoxSR(1, 16, 16, 16)) }, "factor 16"},
		{"box/indivisible", func() error { return errOf(NewBoxSR(1, 8, 6, 4)) }, "does not divide"},
		{"box/w=0", func() error { return errOf(NewBoxSR(1, 8, 0, 4)) }, "positive"},
		{"bicubic/f=8", func() error { return errOf(NewBicubicSR(1, 16, 16, 8)) }, "factor 8"},
		{"bicubic/f=-2", func() error { return errOf(NewBicubicSR(1, 16, 16, -2)) }, "factor -2"},
		{"bicubic/indivisible", func() error { return errOf(NewBicubicSR(1, 16, 6, 4)) }, "does not divide"},
		{"bicubic/side", func() error { return errOf(NewBicubicSR(1, 2*MaxSide, 4, 4)) }, "exceed"},
		{"bicubic/overflow", func() error { return errOf(NewBicubicSR(huge, 4, 4, 4)) }, "exceeds"},
		{"blur/empty", func() error { return errOf(NewBlur(1, 5, 5, nil, 0)) }, "empty"},
		{"blur/even", func() error { return errOf(NewBlur(1, 5, 5, []float64{0.5, 0.5}, 0)) }, "even"},
		{"blur/longer-than-w", func() error { return errOf(NewBlur(1, 9, 3, []float64{.2, .2, .2, .2, .2}, 0)) }, "longer"},
		{"blur/longer-than-h", func() error { return errOf(NewBlur(1, 1, 9, []float64{.2, .6, .2}, 0)) }, "longer"},
		{"blur/nan-tap", func() error { return errOf(NewBlur(1, 5, 5, []float64{0.5, nan, 0.5}, 0)) }, "NaN"},
		{"blur/inf-tap", func() error { return errOf(NewBlur(1, 5, 5, []float64{inf}, 0)) }, "infinite"},
		{"blur/threshold<0", func() error { return errOf(NewBlur(1, 5, 5, []float64{1}, -1)) }, "threshold"},
		{"blur/threshold-nan", func() error { return errOf(NewBlur(1, 5, 5, []float64{1}, nan)) }, "threshold"},
		{"blur/threshold-too-high", func() error { return errOf(NewBlur(1, 5, 5, []float64{1}, 2)) }, "rank 0"},
		{"blur/zero-kernel", func() error { return errOf(NewBlur(1, 5, 5, []float64{0, 0, 0}, 0)) }, "rank 0"},
		{"blur/side", func() error { return errOf(NewBlur(1, MaxSide+1, 3, []float64{1}, 0)) }, "exceed"},
		{"blur/c<0", func() error { return errOf(NewBlur(-1, 5, 5, []float64{1}, 0)) }, "positive"},
		{"gaussian/sigma=0", func() error { return errOf(GaussianKernel(0, 2)) }, "sigma"},
		{"gaussian/sigma<0", func() error { return errOf(GaussianKernel(-1, 2)) }, "sigma"},
		{"gaussian/sigma-nan", func() error { return errOf(GaussianKernel(nan, 2)) }, "sigma"},
		{"gaussian/sigma-inf", func() error { return errOf(GaussianKernel(inf, 2)) }, "sigma"},
		{"gaussian/radius<0", func() error { return errOf(GaussianKernel(1, -1)) }, "radius"},
		{"gaussian/radius-huge", func() error { return errOf(GaussianKernel(1, huge)) }, "radius"},
		{"uniform/0", func() error { return errOf(UniformKernel(0)) }, "size"},
		{"uniform/even", func() error { return errOf(UniformKernel(4)) }, "size"},
		{"uniform/negative", func() error { return errOf(UniformKernel(-3)) }, "size"},
		{"uniform/huge", func() error { return errOf(UniformKernel(huge)) }, "size"},
		{"gray/c=1", func() error { return errOf(NewGray(1, 4, 4)) }, "channels"},
		{"gray/h=0", func() error { return errOf(NewGray(3, 0, 4)) }, "positive"},
		{"dense/nil", func() error { return errOf(NewDense(nil)) }, "empty"},
		{"dense/empty-row", func() error { return errOf(NewDense([][]float64{{}})) }, "empty"},
		{"dense/ragged", func() error { return errOf(NewDense([][]float64{{1, 2}, {3}})) }, "ragged"},
		{"dense/nan", func() error { return errOf(NewDense([][]float64{{1, nan}})) }, "NaN"},
		{"dense/inf", func() error { return errOf(NewDense([][]float64{{1}, {-inf}})) }, "infinite"},
		{"dense/zero", func() error { return errOf(NewDense([][]float64{{0, 0}, {0, 0}})) }, "rank 0"},
		{"dense/subnormal", func() error { return errOf(NewDense([][]float64{{1e-320}})) }, "overflows"},
		{"dense/too-many-rows", func() error { return errOf(NewDense(randMatrix(MaxSide+1, 1, 4))) }, "exceeds"},
		{"dense/too-many-columns", func() error { return errOf(NewDense(randMatrix(1, MaxSide+1, 5))) }, "exceeds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panicked: %v", r)
					}
				}()
				err = tc.call()
			}()
			switch {
			case err == nil:
				t.Errorf("no error, want one mentioning %q", tc.want)
			case !strings.HasPrefix(err.Error(), "operator: ") || !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q, want an \"operator: \" message mentioning %q", err, tc.want)
			}
		})
	}
}
