package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"conjure/imaging"
)

// writePNG writes a random w×h image (or a keep-mask when mask is set:
// white outside a centred box) and returns its path.
func writePNG(t *testing.T, dir, name string, w, h int, mask bool) string {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			if mask {
				c = color.NRGBA{255, 255, 255, 255}
				if x >= w/4 && x < w-w/4 && y >= h/4 && y < h-h/4 {
					c = color.NRGBA{0, 0, 0, 255}
				}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return savePNG(t, filepath.Join(dir, name), img)
}

// savePNG writes img to path and returns the path.
func savePNG(t *testing.T, path string, img image.Image) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRestoreRejectsBadInput(t *testing.T) {
	dir := t.TempDir()
	face := writePNG(t, dir, "face.png", 64, 64, false)
	small := writePNG(t, dir, "mask-small.png", 32, 32, true)
	notImage := filepath.Join(dir, "notes.png")
	if err := os.WriteFile(notImage, []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.png")
	cases := map[string][]string{
		"not an image":    {"--task", "sr4", "--input", notImage, "--out", out},
		"missing input":   {"--task", "sr4", "--input", filepath.Join(dir, "none.png"), "--out", out},
		"mask wrong size": {"--task", "inpaint", "--input", face, "--mask", small, "--out", out},
		"inpaint no mask": {"--task", "inpaint", "--input", face, "--out", out},
		"unknown task":    {"--task", "sr3", "--input", face, "--out", out},
		"unknown method":  {"--task", "sr4", "--method", "euler", "--input", face, "--out", out},
		"steps zero":      {"--task", "sr4", "--steps", "0", "--input", face, "--out", out},
		"no task":         {"--input", face, "--out", out},
		"no out":          {"--task", "sr4", "--input", face},
		"bad backend":     {"--task", "sr4", "--backend", "tpu", "--input", face, "--out", out},
		"negative w":      {"--task", "sr4", "--w", "-1", "--input", face, "--out", out},
		"negative sigma":  {"--task", "sr4", "--sigma-y", "-0.1", "--input", face, "--out", out},
		"mask for sr4":    {"--task", "sr4", "--mask", small, "--input", face, "--out", out},
		"gpu-mib zero":    {"--task", "sr4", "--gpu-mib", "0", "--input", face, "--out", out},
		"NaN sigma":       {"--task", "deblur", "--sigma-y", "NaN", "--input", face, "--out", out},
		"nothing kept":    {"--task", "inpaint", "--input", face, "--mask", savePNG(t, filepath.Join(dir, "black.png"), image.NewNRGBA(image.Rect(0, 0, 64, 64))), "--out", out},
	}
	for name, args := range cases {
		code, stdout, stderr := runCLI(t, append([]string{"restore"}, args...)...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || stdout != "" || len(lines) != 1 || !strings.HasPrefix(lines[0], "conjure restore: ") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and one line", name, code, stdout, stderr)
		}
	}
	// ΠGDM's explicit Euler guidance at a far too large w diverges on a
	// deblur: after the progress bar, an error naming the task and
	// settings, never an image.
	code, stdout, stderr := runCLI(t, "restore", "--task", "deblur", "--sigma-y", "0.02", "--method", "pigdm", "--w", "10000", "--tau0", "0.7", "--input", face, "--out", out)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if code != 2 || stdout != "" || !strings.HasPrefix(last, "conjure restore: deblur: the restoration diverged") || !strings.Contains(last, "w = 10000") {
		t.Errorf("diverging deblur: exit %d, stdout %q, last line %q; want exit 2 and the divergence named", code, stdout, last)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run wrote an output image")
	}
}

// The shipped face model end to end on the CPU: a 1-step simulated 4× SR of
// a non-square image (which must be cropped, with a notice) prints metrics
// and writes an R×R PNG; an observation-mode inpainting run honours the
// mask.
func TestRestoreEndToEnd(t *testing.T) {
	dir := t.TempDir()
	photo := writePNG(t, dir, "photo.png", 80, 70, false)
	out := filepath.Join(dir, "out.png")
	code, stdout, stderr := runCLI(t, "restore", "--model", "face64", "--task", "sr4", "--simulate", "--steps", "1", "--input", photo, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "notice:") || !strings.Contains(stderr, "step 1/1") {
		t.Errorf("stderr %q lacks the resize notice or progress", stderr)
	}
	var m struct {
		PSNR, SSIM, MS float64
		Steps          int
		Method         string
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if m.Steps != 1 || m.Method != "cpigdm" || !(m.PSNR > 0) || !(m.SSIM > -1 && m.SSIM <= 1) || !(m.MS > 0) {
		t.Errorf("metrics %+v", m)
	}
	img, err := imaging.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 64 {
		t.Errorf("output is %v, want 64×64", b)
	}

	face := writePNG(t, dir, "face.png", 64, 64, false)
	mask := writePNG(t, dir, "mask.png", 64, 64, true)
	out2 := filepath.Join(dir, "inpainted.png")
	if code, _, stderr := runCLI(t, "restore", "--model", "face64", "--task", "inpaint", "--method", "ddnm", "--steps", "1", "--input", face, "--mask", mask, "--out", out2); code != 0 {
		t.Fatalf("inpaint: exit %d: %s", code, stderr)
	}
	got, err := imaging.Open(out2)
	if err != nil {
		t.Fatal(err)
	}
	// DDNM replaces the kept pixels of x̂₀ by y, so x_N = μ_N·y + σ_N·ε there:
	// within σ_N ≈ 0.0105 times |ε| of the input, whatever the weights.
	in, _ := imaging.Open(face)
	x, y := imaging.Planar(got), imaging.Planar(in)
	var worst float64
	for i := range 64 * 64 {
		if r, c := i/64, i%64; r >= 16 && r < 48 && c >= 16 && c < 48 {
			continue
		}
		for k := range 3 {
			worst = max(worst, abs(x[k*4096+i]-y[k*4096+i]))
		}
	}
	if worst > 0.1 {
		t.Errorf("kept pixels moved by up to %.3f (in [-1,1] units)", worst)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// --backend gpu and --backend cpu give the same image (one step of the
// shipped model; lavapipe in CI). The outputs are 8-bit PNGs, so they must
// agree to within one level where float32 round-off straddles a rounding
// boundary.
func TestRestoreGPUMatchesCPU(t *testing.T) {
	dir := t.TempDir()
	face := writePNG(t, dir, "face.png", 64, 64, false)
	outs := map[string]string{}
	for _, backend := range []string{"cpu", "gpu"} {
		out := filepath.Join(dir, backend+".png")
		code, _, stderr := runCLI(t, "restore", "--model", "face64", "--task", "sr4", "--simulate", "--steps", "1", "--backend", backend, "--input", face, "--out", out)
		if code != 0 {
			if backend == "gpu" && strings.Contains(stderr, "no WebGPU adapter") && os.Getenv("CI") != "true" {
				t.Skip("no WebGPU adapter here (CI installs lavapipe): " + stderr)
			}
			t.Fatalf("%s: exit %d: %s", backend, code, stderr)
		}
		outs[backend] = out
	}
	a, err := imaging.Open(outs["cpu"])
	if err != nil {
		t.Fatal(err)
	}
	b, err := imaging.Open(outs["gpu"])
	if err != nil {
		t.Fatal(err)
	}
	x, y := imaging.Planar(a), imaging.Planar(b)
	for i := range x {
		if d := abs(x[i] - y[i]); d > 1.01/127.5 {
			t.Fatalf("value %d: cpu %v, gpu %v", i, x[i], y[i])
		}
	}
}
