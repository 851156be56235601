// Package imaging converts between Go images and the planar float vectors
// the samplers work on, and resizes with antialiasing.
//
// # Layout
//
// A planar image of C channels and H×W pixels is a []float64 of length
// C·H·W with element (c, i, j) at offset c·H·W + i·W + j and values in
// [−1, 1] (0 ↦ −1, 255 ↦ 1). Colour images have C = 3 (R, G, B); a
// grayscale measurement has C = 1.
package imaging

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoders for Decode
	"image/png"
	"io"
	"math"
	"os"
)

// MaxPixels bounds the images Decode accepts, checked from the header before
// the pixels are allocated.
const MaxPixels = 50_000_000

// Decode reads a PNG or JPEG image, refusing images larger than MaxPixels.
func Decode(r io.ReadSeeker) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("not a PNG or JPEG image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, fmt.Errorf("image is %d×%d; at most %d pixels are accepted", cfg.Width, cfg.Height, MaxPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	return img, nil
}

// Size returns the width and height in the header of the PNG or JPEG file
// at path, without decoding its pixels, so a size limit can be checked
// before anything is allocated.
func Size(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: not a PNG or JPEG image: %w", path, err)
	}
	return cfg.Width, cfg.Height, nil
}

// Open decodes the image file at path.
func Open(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// Save writes img to path as PNG.
func Save(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// Planar returns the RGB pixels of img as a planar 3-channel vector in
// [−1, 1]; alpha is ignored (images are treated as opaque).
func Planar(img image.Image) []float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	x := make([]float64, 3*w*h)
	for i := range h {
		for j := range w {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+j, b.Min.Y+i)).(color.NRGBA)
			for k, v := range [3]uint8{c.R, c.G, c.B} {
				x[k*w*h+i*w+j] = float64(v)/127.5 - 1
			}
		}
	}
	return x
}

// Image converts a planar vector of c ∈ {1, 3} channels, h×w pixels, to an
// 8-bit image, clipping to [−1, 1] and rounding.
func Image(x []float64, c, h, w int) (*image.NRGBA, error) {
	if c != 1 && c != 3 || len(x) != c*h*w {
		return nil, fmt.Errorf("imaging: %d values are not a %d×%d image of %d channels", len(x), w, h, c)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range h {
		for j := range w {
			var px [3]uint8
			for k := range 3 {
				px[k] = To8(x[(k%c)*w*h+i*w+j])
			}
			img.SetNRGBA(j, i, color.NRGBA{px[0], px[1], px[2], 255})
		}
	}
	return img, nil
}

// To8 maps a value in [−1, 1] to 0..255, clipping and rounding.
func To8(v float64) uint8 {
	v = math.Round((math.Max(-1, math.Min(1, v)) + 1) * 127.5)
	return uint8(v)
}

// Mask returns the keep-mask of a mask image: true (keep) where the pixel's
// luminance is at least half, false (fill) where it is darker.
func Mask(img image.Image) []bool {
	b := img.Bounds()
	m := make([]bool, b.Dx()*b.Dy())
	for i := range b.Dy() {
		for j := range b.Dx() {
			g := color.GrayModel.Convert(img.At(b.Min.X+j, b.Min.Y+i)).(color.Gray)
			m[i*b.Dx()+j] = g.Y >= 128
		}
	}
	return m
}

// CenterSquare returns the largest centred square of img.
func CenterSquare(img image.Image) image.Image {
	b := img.Bounds()
	s := min(b.Dx(), b.Dy())
	x0, y0 := b.Min.X+(b.Dx()-s)/2, b.Min.Y+(b.Dy()-s)/2
	dst := image.NewNRGBA(image.Rect(0, 0, s, s))
	for i := range s {
		for j := range s {
			dst.Set(j, i, img.At(x0+j, y0+i))
		}
	}
	return dst
}

// ErrEmpty reports an image without pixels.
var ErrEmpty = errors.New("imaging: empty image")

// Fit returns img as a planar 3-channel size×size vector: the centred square,
// resized with antialiasing when its side differs. resized reports whether
// the image had to be cropped or resized, so callers can say so.
func Fit(img image.Image, size int) (x []float64, resized bool, err error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, false, ErrEmpty
	}
	if b.Dx() == size && b.Dy() == size {
		return Planar(img), false, nil
	}
	sq := CenterSquare(img)
	side := sq.Bounds().Dx()
	return Resize(Planar(sq), 3, side, side, size, size), true, nil
}

// Quantize rounds every value of x in place to the nearest of the 256
// levels an 8-bit image holds (clipping to [−1, 1]), as saving x as a
// photo would: what a person's photo carries besides the degradation.
func Quantize(x []float64) {
	for i, v := range x {
		x[i] = float64(To8(v))/127.5 - 1
	}
}
