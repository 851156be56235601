package imaging

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomImage(r *rand.Rand, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

func TestPlanarRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	img := randomImage(r, 7, 5)
	back, err := Image(Planar(img), 3, 5, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Pix, img.Pix) {
		t.Error("8-bit pixels changed on the way through planar floats")
	}
	// Planar offset c·H·W + i·W + j.
	x := Planar(img)
	if got, want := x[2*35+3*7+4], float64(img.NRGBAAt(4, 3).B)/127.5-1; got != want {
		t.Errorf("blue at (3,4) = %v, want %v", got, want)
	}
}

func TestResize(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	// A constant image stays constant (weights are normalised).
	c := make([]float64, 2*30*20)
	for i := range c {
		c[i] = 0.37
	}
	for _, v := range Resize(c, 2, 30, 20, 7, 11) {
		if math.Abs(v-0.37) > 1e-12 {
			t.Fatalf("constant image resized to %v", v)
		}
	}
	// Same size is the identity: Catmull–Rom interpolates at sample points.
	x := Planar(randomImage(r, 9, 6))
	y := Resize(x, 3, 6, 9, 6, 9)
	for i := range x {
		if math.Abs(x[i]-y[i]) > 1e-12 {
			t.Fatalf("identity resize changed value %d: %v → %v", i, x[i], y[i])
		}
	}
	// Antialiasing: a pixel checkerboard of ±1 shrunk 4× is near flat grey;
	// point sampling would keep ±1.
	board := make([]float64, 32*32)
	for i := range 32 {
		for j := range 32 {
			board[i*32+j] = float64(1 - 2*((i+j)%2))
		}
	}
	for _, v := range Resize(board, 1, 32, 32, 8, 8) {
		if math.Abs(v) > 0.1 {
			t.Fatalf("checkerboard shrunk to %v: not antialiased", v)
		}
	}
}

func TestFitCropsCentre(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 6, 4))
	for y := range 4 {
		for x := range 6 {
			v := uint8(0)
			if x == 0 || x == 5 {
				v = 255 // the columns a centre crop must drop
			}
			img.SetNRGBA(x, y, color.NRGBA{v, v, v, 255})
		}
	}
	x, resized, err := Fit(img, 4)
	if err != nil || !resized {
		t.Fatalf("Fit: resized=%v err=%v", resized, err)
	}
	for i, v := range x {
		if v != -1 {
			t.Fatalf("value %d = %v: the crop kept an edge column", i, v)
		}
	}
}

func TestMask(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 2, 1))
	img.SetGray(0, 0, color.Gray{255})
	img.SetGray(1, 0, color.Gray{10})
	if m := Mask(img); !m[0] || m[1] {
		t.Errorf("mask = %v, want [true false]", m)
	}
}

func TestDecodeRejects(t *testing.T) {
	if _, err := Decode(strings.NewReader("not an image")); err == nil {
		t.Error("garbage decoded")
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, randomImage(rand.New(rand.NewPCG(5, 6)), 3, 3)); err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(bytes.NewReader(buf.Bytes()[:buf.Len()/2])); err == nil {
		t.Error("truncated PNG decoded")
	}
}

// Shrink is an area mean: a 2× shrink averages 2×2 blocks, any shrink
// keeps the total mass (sum × pixel area), and its weights never reach
// outside an output pixel's footprint.
func TestShrink(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	x := make([]float64, 2*12*18)
	for i := range x {
		x[i] = 2*r.Float64() - 1
	}
	y := Shrink(x, 2, 12, 18, 6, 9)
	for k := range 2 {
		for i := range 6 {
			for j := range 9 {
				p := func(a, b int) float64 { return x[k*216+(2*i+a)*18+2*j+b] }
				want := (p(0, 0) + p(0, 1) + p(1, 0) + p(1, 1)) / 4
				if got := y[k*54+i*9+j]; math.Abs(got-want) > 1e-14 {
					t.Fatalf("2× shrink at (%d, %d, %d): %g, want %g", k, i, j, got, want)
				}
			}
		}
	}
	z := Shrink(x, 2, 12, 18, 5, 7)
	var sx, sz float64
	for _, v := range x {
		sx += v
	}
	for _, v := range z {
		sz += v
	}
	if math.Abs(sx-sz*(12*18)/(5*7)) > 1e-12 {
		t.Errorf("mass %g before, %g after", sx, sz*(12*18)/(5*7))
	}
	hole := make([]float64, 12*18)
	hole[5*18+6] = 1 // rows [4.8, 7.2) and columns [5.14, 7.71) of output (2, 2) alone hold it
	for i, v := range Shrink(hole, 1, 12, 18, 5, 7) {
		if (v != 0) != (i == 2*7+2) {
			t.Errorf("output pixel %d = %g", i, v)
		}
	}
}
