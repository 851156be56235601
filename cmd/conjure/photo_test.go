package main

import (
	"encoding/json"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"conjure/imaging"
	"conjure/model"
	"conjure/sampler"
)

// localTiny is a small attention-free U-Net at 16×16: a photo-style model,
// run on tiles.
var localTiny = model.Config{
	Resolution: 16, InChannels: 3, Channels: 6, Mult: []int{1, 2}, ResBlocks: 1,
	AttnResolutions: []int{}, Groups: 2, Heads: 2, TimeScale: 1000, MidAttn: new(false),
}

// writeScribble writes a w×h keep-mask: white, with a black diagonal
// stroke of the given width through the box [x0, x1)×[y0, y1) (none for a
// width ≤ 0).
func writeScribble(t *testing.T, dir string, w, h, x0, y0, x1, y1, width int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
		}
	}
	for s := range 200 * min(1, max(width, 0)) {
		cx := x0 + (x1-x0-1)*s/199
		cy := y0 + (y1-y0-1)*s/199
		for dy := -width / 2; dy <= width/2; dy++ {
			for dx := -width / 2; dx <= width/2; dx++ {
				img.SetNRGBA(cx+dx, cy+dy, color.NRGBA{0, 0, 0, 255})
			}
		}
	}
	return savePNG(t, filepath.Join(dir, "scribble.png"), img)
}

// Every task restores a whole photo at full resolution with a small random
// local model: the output has the task's size, inpainting changes only the
// masked pixels (through the downscaled working window), colourisation
// keeps the input's luminance, and --simulate prints metrics.
func TestRestorePhotoEveryTask(t *testing.T) {
	dir := t.TempDir()
	mod := writeModel(t, localTiny)
	in := writePNG(t, dir, "in.png", 37, 29, false)
	for _, c := range []struct {
		task string
		w, h int
		args []string
	}{
		{"sr4", 148, 116, nil},
		{"sr2", 74, 58, nil},
		{"sr4box", 148, 116, nil},
		{"deblur", 37, 29, nil},
		{"denoise", 37, 29, nil},
		{"gray", 37, 29, []string{"--work", "20"}},
	} {
		out := filepath.Join(dir, c.task+".png")
		args := append([]string{"restore", "--model", mod, "--task", c.task, "--steps", "2", "--input", in, "--out", out}, c.args...)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", c.task, code, stderr)
		}
		img, err := imaging.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("%s: output %d×%d, want %d×%d", c.task, b.Dx(), b.Dy(), c.w, c.h)
		}
		if c.task == "gray" {
			src, _ := imaging.Open(in)
			a, b := imaging.Planar(src), imaging.Planar(img)
			n := 37 * 29
			for i := range n {
				la, lb := (a[i]+a[n+i]+a[2*n+i])/3, (b[i]+b[n+i]+b[2*n+i])/3
				if d := abs(la - lb); d > 1.5/127.5 { // three channels rounded to 8 bits
					t.Fatalf("gray: pixel %d luminance %.4f, input's %.4f", i, lb, la)
				}
			}
		}
	}

	// Inpainting a stroke on a photo whose hole window exceeds --work.
	photo := writePNG(t, dir, "big.png", 90, 70, false)
	mask := writeScribble(t, dir, 90, 70, 10, 12, 80, 60, 3)
	out := filepath.Join(dir, "filled.png")
	if code, _, stderr := runCLI(t, "restore", "--model", mod, "--task", "inpaint", "--steps", "2", "--work", "32",
		"--input", photo, "--mask", mask, "--out", out); code != 0 {
		t.Fatalf("inpaint: exit %d: %s", code, stderr)
	}
	a, _ := imaging.Open(photo)
	b, _ := imaging.Open(out)
	m, _ := imaging.Open(mask)
	keep := imaging.Mask(m)
	changed := 0
	for y := range 70 {
		for x := range 90 {
			pa, pb := a.At(x, y), b.At(x, y)
			if keep[y*90+x] && pa != pb {
				t.Fatalf("kept pixel (%d, %d) changed: %v → %v", x, y, pa, pb)
			}
			if !keep[y*90+x] && pa != pb {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("no masked pixel was filled")
	}

	odd := writePNG(t, dir, "odd.png", 41, 35, false)
	code, stdout, stderr := runCLI(t, "restore", "--model", mod, "--task", "sr2", "--simulate", "--steps", "1", "--input", odd, "--out", filepath.Join(dir, "sim.png"))
	if code != 0 {
		t.Fatalf("simulate: exit %d: %s", code, stderr)
	}
	var res struct{ PSNR, SSIM float64 }
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || !(res.PSNR > 0) {
		t.Errorf("simulate printed %q (%v)", stdout, err)
	}
	if img, _ := imaging.Open(filepath.Join(dir, "sim.png")); img.Bounds().Dx() != 40 || img.Bounds().Dy() != 34 {
		t.Errorf("simulated sr2 of 41×35 is %v, want 40×34 (cropped to even sides)", img.Bounds())
	}
}

// The shipped photo model restores a small photo of four tiles end to end.
func TestRestorePhotoShippedModel(t *testing.T) {
	dir := t.TempDir()
	in := writePNG(t, dir, "in.png", 24, 20, false)
	out := filepath.Join(dir, "out.png")
	if code, _, stderr := runCLI(t, "restore", "--task", "sr4", "--input", in, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	img, err := imaging.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 80 {
		t.Errorf("output %v, want 96×80", b)
	}
}

// Sizes beyond a task's limits are refused from the file's header, before
// any decoding, with exit 2 and a message that names the limit.
func TestRestorePhotoLimits(t *testing.T) {
	dir := t.TempDir()
	mod := writeModel(t, localTiny)
	wide := writePNG(t, dir, "wide.png", 513, 16, false)
	tall := writePNG(t, dir, "tall.png", 16, 2049, false)
	huge := writePNG(t, dir, "huge.png", 4097, 16, false)
	tiny := writePNG(t, dir, "tiny.png", 15, 40, false)
	out := filepath.Join(dir, "out.png")
	for _, c := range []struct {
		task, input, want string
	}{
		{"sr4", wide, "2048×2048"},
		{"deblur", tall, "2048×2048"},
		{"denoise", tall, "2048×2048"},
		{"gray", huge, "4096×4096"},
		{"inpaint", huge, "4096×4096"},
		{"sr4", tiny, "16×16"},
		{"gray", tiny, "16×16"},
	} {
		args := []string{"restore", "--model", mod, "--task", c.task, "--input", c.input, "--out", out}
		if c.task == "inpaint" {
			args = append(args, "--mask", c.input)
		}
		code, _, stderr := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s on %s: exit %d, stderr %q; want exit 2 and one line naming %s", c.task, filepath.Base(c.input), code, stderr, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused run wrote an output")
	}
	small := writePNG(t, dir, "small.png", 20, 20, false)
	code, _, stderr := runCLI(t, "restore", "--model", mod, "--task", "inpaint", "--input", wide, "--mask", small, "--out", out)
	if code != 2 || !strings.Contains(stderr, "513×16") {
		t.Errorf("mask of another size: exit %d, %q", code, stderr)
	}
	white := writeScribble(t, dir, 20, 20, 0, 0, 0, 0, -1)
	code, _, stderr = runCLI(t, "restore", "--model", mod, "--task", "inpaint", "--input", small, "--mask", white, "--out", out)
	if code != 2 || !strings.Contains(stderr, "nothing to fill") {
		t.Errorf("mask without holes: exit %d, %q", code, stderr)
	}
}

// The progress bar stays quiet for the first second, then draws at most ten
// times a second and ends at 100% with a newline.
func TestTileProgress(t *testing.T) {
	var b strings.Builder
	p := newTileProgress(&b, 2)
	p.Tiles(3, 6)
	if b.Len() != 0 {
		t.Fatalf("drew %q before a second had passed", b.String())
	}
	p.start = p.start.Add(-2 * time.Second)
	p.Tiles(6, 6)
	p.Tiles(3, 6) // within 100 ms of the last draw: skipped
	if got := b.String(); !strings.Contains(got, " 25% ") || strings.Count(got, "\r") != 1 {
		t.Fatalf("after one of two passes of step 1: %q", got)
	}
	p.Step(sampler.Step{I: 1, N: 2})
	p.Step(sampler.Step{I: 2, N: 2})
	if got := b.String(); !strings.HasSuffix(got, "\n") || !strings.Contains(got, "100%") {
		t.Errorf("final draw: %q", got)
	}
	var quiet strings.Builder
	q := newTileProgress(&quiet, 1)
	q.Tiles(1, 1)
	q.Step(sampler.Step{I: 1, N: 1})
	if quiet.Len() != 0 {
		t.Errorf("a run under a second drew %q", quiet.String())
	}
}
