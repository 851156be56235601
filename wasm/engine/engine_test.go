package engine

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"

	"conjure/imaging"
	"conjure/models"
	"conjure/restore"
	"conjure/sampler"
)

// cpuEngine returns an Engine on the CPU with the shipped model.
func cpuEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := Load(face64(), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// gradient returns a w×h RGBA test image with smooth colour ramps.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range h {
		for j := range w {
			img.SetNRGBA(j, i, color.NRGBA{uint8(255 * j / w), uint8(255 * i / h), uint8(128 + 64*(i+j)/(w+h)), 255})
		}
	}
	return img
}

func TestInfo(t *testing.T) {
	e := cpuEngine(t)
	in := e.Info()
	if in.Backend != CPU || in.Resolution != 64 || in.Bytes != len(face64()) || in.Notice == "" {
		t.Errorf("Info() = %+v, want the CPU, resolution 64, the file's size and a notice", in)
	}
}

func TestLoadRejectsGarbage(t *testing.T) {
	_, err := Load([]byte("not a model"), false)
	if err == nil || !strings.Contains(err.Error(), "reload the page") {
		t.Errorf("Load(garbage) = %v, want an error saying what to do", err)
	}
}

// TestRestoreMatchesCLIPath checks that a restore equals the command line's
// pipeline (imaging.Fit, restore.Measurement, restore.Run, imaging.Image) on
// a 40×24 input that must be cropped and resized, and that progress counts
// every step.
func TestRestoreMatchesCLIPath(t *testing.T) {
	e := cpuEngine(t)
	src := gradient(40, 24)
	const steps, seed = 2, 7
	var calls [][2]int
	got, err := e.Restore(Request{Task: "sr4", Pixels: src.Pix, Width: 40, Height: 24, Steps: steps, Method: "cpigdm", Seed: seed},
		func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != 64 || len(got.Pixels) != 4*64*64 || !got.Resized {
		t.Fatalf("result %d×%d with %d bytes, resized %v; want 64×64, %d bytes, resized", got.Size, got.Size, len(got.Pixels), got.Resized, 4*64*64)
	}
	if len(calls) != steps || calls[steps-1] != [2]int{steps, steps} {
		t.Errorf("progress calls %v, want 1…%d of %d", calls, steps, steps)
	}

	op, err := restore.Operator(restore.SR4, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	obs, _, err := imaging.Fit(src, restore.ObservedSide(restore.SR4, 64))
	if err != nil {
		t.Fatal(err)
	}
	x, err := restore.Run(cpuEngine(t).b, op, restore.Measurement(op, obs), 0, restore.Options(restore.PriorFace, restore.SR4, sampler.CPiGDM, steps, 0), seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, err := imaging.Image(x, 3, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Pixels, want.Pix) {
		t.Error("engine result differs from the command line's pipeline")
	}
}

// TestFittedMask checks that a mask of another size than R×R is fitted like
// the input: a centre box drawn at 128×128 becomes restore.CentreHole(64, 64).
func TestFittedMask(t *testing.T) {
	e := cpuEngine(t)
	const side = 128
	mask := image.NewNRGBA(image.Rect(0, 0, side, side))
	for i, k := range restore.CentreHole(side, side) {
		v := uint8(0)
		if k {
			v = 255
		}
		mask.SetNRGBA(i%side, i/side, color.NRGBA{v, v, v, 255})
	}
	keep, resized, err := e.keep(restore.Inpaint, Request{Mask: mask.Pix, Width: side, Height: side}, 64)
	if err != nil {
		t.Fatal(err)
	}
	want := restore.CentreHole(64, 64)
	for i := range want {
		if keep[i] != want[i] {
			t.Fatalf("fitted mask differs from CentreHole(64, 64) at pixel (%d, %d)", i/64, i%64)
		}
	}
	if !resized {
		t.Error("resized = false for a 128×128 mask")
	}
}

func TestRestoreErrors(t *testing.T) {
	e := cpuEngine(t)
	px := gradient(16, 16).Pix
	ok := Request{Task: "sr4", Pixels: px, Width: 16, Height: 16, Steps: 5, Method: "cpigdm"}
	for _, c := range []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"task", func(r *Request) { r.Task = "zoom" }, "unknown task"},
		{"method", func(r *Request) { r.Method = "ddpm" }, "use cpigdm or pigdm"},
		{"steps=0", func(r *Request) { r.Steps = 0 }, "use 1 to"},
		{"steps=101", func(r *Request) { r.Steps = MaxSteps + 1 }, "use 1 to"},
		{"bytes", func(r *Request) { r.Pixels = px[:10] }, "want 1024"},
		{"empty", func(r *Request) { r.Width = 0 }, "give an image with pixels"},
		{"huge", func(r *Request) { r.Width, r.Height = 1<<15, 1<<15 }, "crop or shrink"},
		{"no mask", func(r *Request) { r.Task = "inpaint" }, "needs a mask"},
		{"mask bytes", func(r *Request) { r.Task, r.Mask = "inpaint", px[:8] }, "mask has 8 bytes"},
	} {
		r := ok
		c.edit(&r)
		if _, err := e.Restore(r, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// face64 is the framed face model the page ships.
func face64() []byte {
	b, _ := models.Bytes(models.Face64)
	return b
}
