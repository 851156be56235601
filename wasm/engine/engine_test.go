package engine

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"conjure/cpu"
	"conjure/gpu"
	"conjure/imaging"
	"conjure/metrics"
	"conjure/models"
	"conjure/restore"
	"conjure/sampler"
	"conjure/tile"
)

// cpuEngine returns an Engine on the CPU with the shipped model name.
func cpuEngine(t *testing.T, name string) *Engine {
	t.Helper()
	e, err := Load(shipped(name), ForceCPU)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

// shipped returns the weight file of a shipped model.
func shipped(name string) []byte {
	b, _ := models.Bytes(name)
	return b
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
	for _, c := range []struct {
		name   string
		framed bool
	}{{models.Face64, true}, {models.Photo, false}} {
		in := cpuEngine(t, c.name).Info()
		if in.Backend != CPU || in.Resolution != 64 || in.Bytes != len(shipped(c.name)) || in.Notice == "" || in.Framed != c.framed {
			t.Errorf("%s: Info() = %+v, want the CPU, resolution 64, the file's size, a notice and framed %v", c.name, in, c.framed)
		}
	}
}

func TestLoadRejectsGarbage(t *testing.T) {
	_, err := Load([]byte("not a model"), ForceCPU)
	if err == nil || !strings.Contains(err.Error(), "reload the page") {
		t.Errorf("Load(garbage) = %v, want an error saying what to do", err)
	}
}

// progressLog records progress calls and checks they only grow, against
// one total, and end at it.
type progressLog struct{ calls [][2]int }

func (p *progressLog) add(done, total int) { p.calls = append(p.calls, [2]int{done, total}) }

func (p *progressLog) check(t *testing.T, total int) {
	t.Helper()
	last := 0
	for _, c := range p.calls {
		if c[1] != total || c[0] <= last || c[0] > total {
			t.Fatalf("progress calls %v: want growing counts of %d", p.calls, total)
		}
		last = c[0]
	}
	if last != total {
		t.Errorf("progress calls %v end at %d, want %d", p.calls, last, total)
	}
}

// TestFramedMatchesCLIPath checks that the face model's restore equals the
// command line's framed pipeline (imaging.Fit, restore.Measurement,
// restore.Run, imaging.Image) on a 40×24 input that must be cropped and
// resized, and that progress counts every step (one tile).
func TestFramedMatchesCLIPath(t *testing.T) {
	e := cpuEngine(t, models.Face64)
	src := gradient(40, 24)
	const steps, seed = 2, 7
	var p progressLog
	got, err := e.Restore(Request{Task: "sr4", Pixels: src.Pix, Width: 40, Height: 24, Steps: steps, Method: "cpigdm", Seed: seed}, p.add, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Width != 64 || got.Height != 64 || len(got.Pixels) != 4*64*64 || !got.Resized || got.Backend != CPU {
		t.Fatalf("result %d×%d with %d bytes, resized %v on %s; want 64×64, %d bytes, resized, cpu", got.Width, got.Height, len(got.Pixels), got.Resized, got.Backend, 4*64*64)
	}
	p.check(t, steps)
	if len(p.calls) != steps {
		t.Errorf("progress calls %v, want one a step", p.calls)
	}

	op, err := restore.Operator(restore.SR4, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	obs, _, err := imaging.Fit(src, restore.ObservedSide(restore.SR4, 64))
	if err != nil {
		t.Fatal(err)
	}
	x, err := restore.RunTask(cpuEngine(t, models.Face64).framed, restore.SR4, op, restore.Measurement(op, obs), 0, restore.Options(restore.PriorFace, restore.SR4, sampler.CPiGDM, steps, 0), seed, nil)
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
	e := cpuEngine(t, models.Face64)
	const side = 128
	mask := maskImage(restore.CentreHole(side, side), side, side)
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

// maskImage draws a keep-mask: white = keep, black = fill.
func maskImage(keep []bool, w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i, k := range keep {
		v := uint8(0)
		if k {
			v = 255
		}
		img.SetNRGBA(i%w, i/w, color.NRGBA{v, v, v, 255})
	}
	return img
}

// reference restores a photo as cmd/conjure's restorePhoto does on the
// CPU: restore.Photo's problem, the tiled reference network with the
// command line's options, restore.RunPhoto.
func reference(t *testing.T, ph restore.Photo, steps int, seed uint64) *image.NRGBA {
	t.Helper()
	img, _ := referenceSteps(t, ph, steps, seed)
	return img
}

// referenceSteps is reference, and each step's x̂₀ turned into an image as
// the problem finishes the result.
func referenceSteps(t *testing.T, ph restore.Photo, steps int, seed uint64) (*image.NRGBA, []*image.NRGBA) {
	t.Helper()
	m, err := models.Shipped(models.Photo)
	if err != nil {
		t.Fatal(err)
	}
	prob, err := ph.Problem()
	if err != nil {
		t.Fatal(err)
	}
	res := m.Config().Resolution
	g, err := tile.NewGrid(prob.H, prob.W, res, tile.DefaultOverlap(res))
	if err != nil {
		t.Fatal(err)
	}
	net, err := tile.New(g, 3, func() tile.Network { return m.NewRunner() }, tile.Options{Keep: 48})
	if err != nil {
		t.Fatal(err)
	}
	o := restore.Options(restore.PriorPhoto, ph.Task, sampler.CPiGDM, steps, ph.SigmaY)
	b := cpu.New(net)
	var x0s []*image.NRGBA
	x, err := restore.RunPhoto(b, prob, o, seed, func(s sampler.Step) {
		x0 := make([]float64, s.X0.Len())
		b.Read(x0, s.X0)
		img, err := imaging.Image(prob.Finish(x0), restore.Channels, prob.OutH, prob.OutW)
		if err != nil {
			t.Fatal(err)
		}
		x0s = append(x0s, img)
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := imaging.Image(x, restore.Channels, prob.OutH, prob.OutW)
	if err != nil {
		t.Fatal(err)
	}
	return img, x0s
}

// TestPhotoMatchesRunPhoto restores a 40×36 photo 2× with the photo model
// (an 80×72 output: 2×2 tiles, more than the CPU keeps) and checks it
// equals the command line's whole-photo path exactly, with progress
// counting tiles × steps.
func TestPhotoMatchesRunPhoto(t *testing.T) {
	e := cpuEngine(t, models.Photo)
	src := gradient(40, 36)
	const steps, seed = 1, 5
	var p progressLog
	got, err := e.Restore(Request{Task: "sr2", Pixels: src.Pix, Width: 40, Height: 36, Steps: steps, Method: "cpigdm", Seed: seed}, p.add, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Width != 80 || got.Height != 72 || len(got.Pixels) != 4*80*72 || got.Resized || got.Backend != CPU {
		t.Fatalf("result %d×%d with %d bytes, resized %v on %s; want 80×72, not resized, cpu", got.Width, got.Height, len(got.Pixels), got.Resized, got.Backend)
	}
	p.check(t, 4*steps)
	if len(p.calls) < 2 {
		t.Errorf("progress calls %v: want the count to move within a step", p.calls)
	}
	want := reference(t, restore.Photo{Task: restore.SR2, Input: imaging.Planar(src), H: 36, W: 40, Work: restore.DefaultWork}, steps, seed)
	if !bytes.Equal(got.Pixels, want.Pix) {
		t.Error("engine result differs from restore.RunPhoto on the CPU backend")
	}
}

// TestPhotoPreviews checks the previews of a 3-step 4× restore on the CPU
// pool: one a step, each the size of the result; before the last, the
// step's x̂₀ finished as the command line's path finishes its result; the
// last, the result; and the result the same as without previews.
func TestPhotoPreviews(t *testing.T) {
	e := cpuEngine(t, models.Photo)
	e.UsePool(newThreadPool(t, 2, 1))
	src := gradient(20, 18)
	const steps, seed = 3, 4
	req := Request{Task: "sr4", Pixels: src.Pix, Width: 20, Height: 18, Steps: steps, Method: "cpigdm", Seed: seed}
	var previews []Preview
	got, err := e.Restore(req, nil, func(p Preview) {
		p.Pixels = bytes.Clone(p.Pixels)
		previews = append(previews, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.Restore(req, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Pixels, plain.Pixels) {
		t.Error("the result with previews differs from the result without")
	}
	want, x0s := referenceSteps(t, restore.Photo{Task: restore.SR4, Input: imaging.Planar(src), H: 18, W: 20, Work: restore.DefaultWork}, steps, seed)
	if !bytes.Equal(got.Pixels, want.Pix) {
		t.Error("engine result differs from restore.RunPhoto on the CPU backend")
	}
	if len(previews) != steps {
		t.Fatalf("%d previews, want one a step (%d)", len(previews), steps)
	}
	for i, p := range previews {
		if p.Step != i+1 || p.Steps != steps || p.Width != 80 || p.Height != 72 {
			t.Fatalf("preview %d: step %d of %d, %d×%d; want step %d of %d, 80×72", i, p.Step, p.Steps, p.Width, p.Height, i+1, steps)
		}
		wantPix := got.Pixels
		if i < steps-1 {
			wantPix = x0s[i].Pix
		}
		if !bytes.Equal(p.Pixels, wantPix) {
			t.Errorf("preview of step %d differs from the step's x̂₀ (or, last, the result)", p.Step)
		}
	}
	if bytes.Equal(previews[0].Pixels, previews[steps-1].Pixels) {
		t.Error("the first preview is already the result")
	}
}

// TestPhotoSigmaY checks that a request's σ_y reaches the sampler: a
// denoise with an explicit σ_y equals the command line's path at that σ_y,
// and differs from the task's default.
func TestPhotoSigmaY(t *testing.T) {
	e := cpuEngine(t, models.Photo)
	src := gradient(24, 20)
	const steps, seed = 1, 3
	sigma := 0.02
	got, err := e.Restore(Request{Task: "denoise", Pixels: src.Pix, Width: 24, Height: 20, Steps: steps, Method: "cpigdm", Seed: seed, SigmaY: &sigma}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := reference(t, restore.Photo{Task: restore.Denoise, Input: imaging.Planar(src), H: 20, W: 24, SigmaY: sigma, Work: restore.DefaultWork}, steps, seed)
	if !bytes.Equal(got.Pixels, want.Pix) {
		t.Error("denoise at σ_y = 0.02 differs from restore.RunPhoto at that σ_y")
	}
	def, err := e.Restore(Request{Task: "denoise", Pixels: src.Pix, Width: 24, Height: 20, Steps: steps, Method: "cpigdm", Seed: seed}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(def.Pixels, got.Pixels) {
		t.Error("σ_y = 0.02 gave the default σ_y's result: the request's σ_y was ignored")
	}
}

// TestPhotoInpaintKeepsUnmasked inpaints a stroke across a 300×40 photo,
// wider than the working size, so the window is restored downscaled; every
// pixel outside the stroke must come back as it was, and the result must
// equal the command line's.
func TestPhotoInpaintKeepsUnmasked(t *testing.T) {
	e := cpuEngine(t, models.Photo)
	const w, h = 300, 40
	src := gradient(w, h)
	keep := make([]bool, w*h)
	for i := range keep {
		y, x := i/w, i%w
		keep[i] = !(y >= 18 && y < 22 && x >= 10 && x < 290)
	}
	mask := maskImage(keep, w, h)
	got, err := e.Restore(Request{Task: "inpaint", Pixels: src.Pix, Width: w, Height: h, Mask: mask.Pix, Steps: 1, Method: "cpigdm"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Width != w || got.Height != h {
		t.Fatalf("result %d×%d, want %d×%d", got.Width, got.Height, w, h)
	}
	changed := 0
	for i, k := range keep {
		px, in := got.Pixels[4*i:4*i+4], src.Pix[4*i:4*i+4]
		if k && !bytes.Equal(px, in) {
			t.Fatalf("kept pixel (%d, %d) changed from %v to %v", i%w, i/w, in, px)
		}
		if !k && !bytes.Equal(px, in) {
			changed++
		}
	}
	if changed == 0 {
		t.Error("no hole pixel changed")
	}
	want := reference(t, restore.Photo{Task: restore.Inpaint, Input: imaging.Planar(src), H: h, W: w, Keep: keep, Work: restore.DefaultWork}, 1, 0)
	if !bytes.Equal(got.Pixels, want.Pix) {
		t.Error("engine result differs from restore.RunPhoto on the CPU backend")
	}
}

// TestPlanTiles checks Plan's sizes and tile counts against the problems
// restore.Photo builds (for inpainting, with a mask whose window is the
// whole photo, the bound's worst case), and that the CPU gives an estimate.
func TestPlanTiles(t *testing.T) {
	e := cpuEngine(t, models.Photo)
	for _, c := range []struct {
		task restore.Task
		w, h int
	}{{restore.SR4, 48, 40}, {restore.SR2, 100, 30}, {restore.Deblur, 130, 70}, {restore.Denoise, 16, 16},
		{restore.Gray, 500, 300}, {restore.Gray, 200, 100}, {restore.Inpaint, 600, 90}, {restore.SR4Box, 20, 17}} {
		p, err := e.Plan(Request{Task: string(c.task), Width: c.w, Height: c.h, Steps: 3, Method: "cpigdm"})
		if err != nil {
			t.Fatal(err)
		}
		ph := restore.Photo{Task: c.task, Input: make([]float64, 3*c.w*c.h), H: c.h, W: c.w}
		if c.task == restore.Inpaint {
			ph.Keep = make([]bool, c.w*c.h)
			for i := range ph.Keep {
				ph.Keep[i] = i%c.w != 0 && i%c.w != c.w-1
			}
		}
		prob, err := ph.Problem()
		if err != nil {
			t.Fatal(err)
		}
		g, err := tile.NewGrid(prob.H, prob.W, 64, tile.DefaultOverlap(64))
		if err != nil {
			t.Fatal(err)
		}
		if p.Width != prob.OutW || p.Height != prob.OutH || p.Tiles != g.Tiles() || p.TileSteps != 3*g.Tiles() || p.Backend != CPU || !(p.Seconds > 0) {
			t.Errorf("%s %d×%d: plan %+v, want output %d×%d, %d tiles, 3 steps of them, a CPU estimate", c.task, c.w, c.h, p, prob.OutW, prob.OutH, g.Tiles())
		}
	}
}

// errCase is a request edited to fail, and what its error must say.
type errCase struct {
	name string
	edit func(*Request)
	want string
}

func TestRestoreErrors(t *testing.T) {
	px := gradient(16, 16).Pix
	ok := Request{Task: "sr4", Pixels: px, Width: 16, Height: 16, Steps: 5, Method: "cpigdm"}
	common := []errCase{
		{"task", func(r *Request) { r.Task = "zoom" }, "unknown task"},
		{"method", func(r *Request) { r.Method = "ddpm" }, "use cpigdm or pigdm"},
		{"steps=0", func(r *Request) { r.Steps = 0 }, "use 1 to"},
		{"steps=101", func(r *Request) { r.Steps = MaxSteps + 1 }, "use 1 to"},
		{"bytes", func(r *Request) { r.Pixels = px[:10] }, "want 1024"},
		{"no mask", func(r *Request) { r.Task = "inpaint" }, "needs a mask"},
		{"mask bytes", func(r *Request) { r.Task, r.Mask = "inpaint", px[:8] }, "mask has 8 bytes"},
		{"sigmaY<0", func(r *Request) { s := -0.1; r.SigmaY = &s }, "use a finite value ≥ 0"},
		{"sigmaY NaN", func(r *Request) { s := math.NaN(); r.SigmaY = &s }, "use a finite value ≥ 0"},
	}
	for _, c := range []struct {
		model string
		cases []errCase
	}{
		{models.Face64, []errCase{
			{"empty", func(r *Request) { r.Width = 0 }, "give an image with pixels"},
			{"huge", func(r *Request) { r.Width, r.Height = 1<<15, 1<<15 }, "crop or shrink"},
		}},
		{models.Photo, []errCase{
			{"small", func(r *Request) { r.Width = 15 }, "at least 16×16"},
			{"sr4 huge", func(r *Request) { r.Width, r.Height = 600, 100 }, "at most 512×512"},
			{"deblur huge", func(r *Request) { r.Task, r.Width = "deblur", 3000 }, "up to 2048×2048"},
			{"inpaint huge", func(r *Request) { r.Task, r.Height = "inpaint", 5000 }, "up to 4096×4096"},
		}},
	} {
		e := cpuEngine(t, c.model)
		for _, k := range append(common, c.cases...) {
			r := ok
			k.edit(&r)
			if _, err := e.Restore(r, nil, nil); err == nil || !strings.Contains(err.Error(), k.want) {
				t.Errorf("%s: %s: err = %v, want one containing %q", c.model, k.name, err, k.want)
			}
		}
		// Check refuses sizes without pixels, as the Worker calls it.
		if err := e.Check(Request{Task: "sr4", Width: 1 << 15, Height: 1 << 15, Steps: 5, Method: "cpigdm"}); err == nil {
			t.Errorf("%s: Check of a 32768×32768 input passed", c.model)
		}
	}
}

func TestTileSteps(t *testing.T) {
	var p progressLog
	c := newTileSteps(4, 2, passCosts(false), p.add)
	for range 2 {
		for range 2 { // the Eps pass, then the VJP pass
			for d := 1; d <= 4; d++ {
				c.tiles(d, 4)
			}
		}
		c.step(sampler.Step{I: c.at + 1, N: 2})
	}
	p.check(t, 8)
	// Eps is a third of the step: its 4 tiles move the count by 1; the
	// VJP pass brings it to 3 of 4, and the step to 4.
	want := [][2]int{{1, 8}, {2, 8}, {3, 8}, {4, 8}, {5, 8}, {6, 8}, {7, 8}, {8, 8}}
	if !slices.Equal(p.calls, want) {
		t.Errorf("calls %v, want %v", p.calls, want)
	}
}

// TestPhotoGPU restores a two-tile photo in two steps on the GPU (lavapipe
// natively) and compares it, and the first step's preview, with the CPU
// reference: float32 against float64, so within a PSNR rather than
// exactly.
func TestPhotoGPU(t *testing.T) {
	e, err := Load(shipped(models.Photo), ForceWebGPU)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Info().Backend != WebGPU {
		if errors.Is(gpuErr(), gpu.ErrNoAdapter) && os.Getenv("CI") != "true" {
			t.Skipf("SKIP: no WebGPU adapter (%s); install mesa-vulkan-drivers for lavapipe", e.Info().Notice)
		}
		t.Fatalf("no GPU: %s", e.Info().Notice)
	}
	// Load calibrated the GPU: an estimate before the first restore.
	if plan, err := e.Plan(Request{Task: "sr2", Width: 40, Height: 24, Steps: 1, Method: "cpigdm"}); err != nil || !(plan.Seconds > 0) || plan.Backend != WebGPU {
		t.Errorf("plan before the first restore: %+v, %v; want a WebGPU estimate from the calibration", plan, err)
	}
	src := gradient(40, 24)
	var p progressLog
	var previews []Preview
	got, err := e.Restore(Request{Task: "sr2", Pixels: src.Pix, Width: 40, Height: 24, Steps: 2, Method: "cpigdm", Seed: 2}, p.add, func(p Preview) {
		p.Pixels = bytes.Clone(p.Pixels)
		previews = append(previews, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	p.check(t, 4)
	if got.Backend != WebGPU || got.Width != 80 || got.Height != 48 {
		t.Fatalf("result %d×%d on %s, want 80×48 on webgpu", got.Width, got.Height, got.Backend)
	}
	want, x0s := referenceSteps(t, restore.Photo{Task: restore.SR2, Input: imaging.Planar(src), H: 24, W: 40, Work: restore.DefaultWork}, 2, 2)
	if len(previews) != 2 || !bytes.Equal(previews[1].Pixels, got.Pixels) {
		t.Fatalf("%d previews; want 2, the last the result", len(previews))
	}
	planar := func(pix []byte) []float64 {
		return imaging.Planar(&image.NRGBA{Pix: pix, Stride: 4 * 80, Rect: image.Rect(0, 0, 80, 48)})
	}
	for _, c := range []struct {
		what      string
		got, want []byte
	}{{"result", got.Pixels, want.Pix}, {"step 1's preview", previews[0].Pixels, x0s[0].Pix}} {
		db := metrics.PSNR(planar(c.got), planar(c.want))
		if db < 40 {
			t.Errorf("%s, GPU vs CPU: PSNR %.1f dB < 40", c.what, db)
		}
		t.Logf("%s, GPU vs CPU: PSNR %.1f dB on %s", c.what, db, e.Info().Adapter)
	}
	if p, err := e.Plan(Request{Task: "sr2", Width: 40, Height: 24, Steps: 5, Method: "cpigdm"}); err != nil || p.Seconds <= 0 || p.Backend != WebGPU {
		t.Errorf("plan after a GPU restore: %+v, %v; want a WebGPU estimate", p, err)
	}
}

// gpuErr returns why gpu.Open fails, or nil.
func gpuErr() error {
	d, err := gpu.Open()
	if err == nil {
		d.Close()
	}
	return err
}

// TestAutoSkipsFallbackAdapter loads the photo model with Auto where the
// only adapter is software (lavapipe here, SwiftShader in the browser
// tests): the engine runs on the CPU and says why and how to force WebGPU;
// ForceWebGPU uses the same adapter (TestPhotoGPU). An unknown choice is an
// error.
func TestAutoSkipsFallbackAdapter(t *testing.T) {
	if _, err := Load(shipped(models.Photo), "gpu"); err == nil || !strings.Contains(err.Error(), `use "auto", "webgpu" or "cpu"`) {
		t.Errorf("Load with backend gpu: %v, want the choices named", err)
	}
	d, err := gpu.Open()
	if err != nil {
		if errors.Is(err, gpu.ErrNoAdapter) && os.Getenv("CI") != "true" {
			t.Skipf("SKIP: no WebGPU adapter (%v); install mesa-vulkan-drivers for lavapipe", err)
		}
		t.Fatal(err)
	}
	software, name := d.Fallback(), d.Name()
	d.Close()
	if !software {
		t.Skipf("the adapter %s is hardware: Auto uses it", name)
	}
	e, err := Load(shipped(models.Photo), Auto)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	in := e.Info()
	if in.Backend != CPU || !strings.Contains(in.Notice, "software fallback") || !strings.Contains(in.Notice, "backend: 'webgpu'") {
		t.Errorf("Auto on %s: backend %s, notice %q; want the CPU and a notice naming the fallback and how to force it", name, in.Backend, in.Notice)
	}
}
