package eval

import (
	"archive/tar"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"conjure/cpu"
	"conjure/imaging"
	"conjure/model"
	"conjure/restore"
	"conjure/sampler"
)

func TestFreeFormMask(t *testing.T) {
	for _, hw := range [][2]int{{32, 32}, {64, 64}, {40, 90}, {150, 60}} {
		h, w := hw[0], hw[1]
		for i := range 50 {
			m := FreeFormMask(h, w, i, 7)
			holes := 0
			for _, k := range m {
				if !k {
					holes++
				}
			}
			if f := float64(holes) / float64(h*w); f < 0.10 || f > 0.30 {
				t.Errorf("%d×%d image %d: %.3f of the pixels missing, want 10–30%%", w, h, i, f)
			}
			again := FreeFormMask(h, w, i, 7)
			for k := range m {
				if m[k] != again[k] {
					t.Fatalf("%d×%d image %d: mask not deterministic", w, h, i)
				}
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	// Mean 2, sample sd 1, n = 4: t(0.975, 3) = 3.182446305284263.
	v := []float64{1, 2, 3, 2}
	s := summarize(v)
	var ss float64
	for _, x := range v {
		ss += (x - 2) * (x - 2)
	}
	want := 3.182446305284263 * math.Sqrt(ss/3/4)
	if math.Abs(s.Mean-2) > 1e-15 || math.Abs(s.CI-want) > 1e-9 {
		t.Errorf("summary %+v, want mean 2 ± %v", s, want)
	}
}

func pngBytes(t *testing.T, r *rand.Rand, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLoadImagesDirAndTar(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for i, name := range []string{"b.png", "a.png", "c.png"} {
		data := pngBytes(t, r, 20+i, 24)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	tw.Close()
	shard := filepath.Join(t.TempDir(), "s.tar")
	if err := os.WriteFile(shard, tb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	fromDir, err := LoadImages(dir, 16, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromDir) != 2 || fromDir[0].Name != "a.png" || len(fromDir[0].X) != 3*16*16 {
		t.Errorf("directory: got %d images, first %q", len(fromDir), fromDir[0].Name)
	}
	fromTar, err := LoadImages(shard, 16, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromTar) != 3 || fromTar[0].Name != "b.png" {
		t.Errorf("tar: got %d images, first %q", len(fromTar), fromTar[0].Name)
	}
	skipped, err := LoadImages(shard, 16, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Name != "a.png" {
		t.Errorf("tar, skip 1 limit 1: got %d images, first %q", len(skipped), skipped[0].Name)
	}
	if _, err := LoadImages(t.TempDir(), 16, 0, 0); err == nil {
		t.Error("empty directory accepted")
	}
}

// tinySetup returns a random 16×16 model (weights from seed) and
// n random images.
func tinySetup(t *testing.T, seed uint64, n int) (*model.Model, []Image) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 4))
	cfg := model.Config{Resolution: 16, InChannels: 3, Channels: 8, Mult: []int{1, 2}, ResBlocks: 1, AttnResolutions: []int{8}, Groups: 4, Heads: 2, TimeScale: 1000}
	m, err := model.NewRandom(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []Image
	for i := range n {
		x := make([]float64, 3*16*16)
		for k := range x {
			x[k] = r.Float64()*2 - 1
		}
		imgs = append(imgs, Image{Name: string(rune('a' + i)), X: x})
	}
	return m, imgs
}

// tinyConfig evaluates tasks × methods × steps on the tiny model m and
// its images, on the CPU with the face presets.
func tinyConfig(m *model.Model, imgs []Image, tasks []Task, methods []string, steps []int) Config {
	return Config{Images: imgs, Res: 16, Tasks: tasks, Methods: methods, Steps: steps,
		Options: func(t Task, meth sampler.Method, n int) sampler.Options {
			return restore.Options(restore.PriorFace, t.Base, meth, n, t.SigmaY)
		},
		Backend: func() sampler.Backend { return cpu.New(m.NewRunner()) }}
}

// A whole small evaluation on a random tiny model: H†y is perfectly
// consistent, every row has one value per image, and the report and
// montages come out.
func TestRunSmall(t *testing.T) {
	m, imgs := tinySetup(t, 5, 3)
	c := tinyConfig(m, imgs, []Task{Tasks[0], Tasks[3]}, []string{"cpigdm", Pinv, Bicubic}, []int{1, 2})
	rows, err := Run(c, 2)
	if err != nil {
		t.Fatal(err)
	}
	// sr4: cpigdm×2, pinv, bicubic; inpaint-free: cpigdm×2, pinv.
	if len(rows) != 7 {
		t.Fatalf("%d rows, want 7", len(rows))
	}
	for _, row := range rows {
		if len(row.PSNR) != 3 || len(row.Outputs) != 2 {
			t.Errorf("%v: %d values, %d outputs", row.Key, len(row.PSNR), len(row.Outputs))
		}
		if row.Method == Pinv {
			if _, _, cons := row.Summaries(); cons.Mean > 1e-12 {
				t.Errorf("%v: H†y inconsistent by %v", row.Key, cons.Mean)
			}
		}
	}
	var rep bytes.Buffer
	if err := WriteReport(&rep, Header{Model: "random"}, rows); err != nil || !bytes.Contains(rep.Bytes(), []byte("## inpaint-free")) {
		t.Errorf("report: %v\n%s", err, rep.String())
	}
	img, err := Montage(Tasks[0], c, rows, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 6*32 || b.Dy() != 2*32 {
		t.Errorf("montage is %v, want 6×2 tiles of 32 px", b)
	}
}

// The paired differences are per-image differences from C-ΠGDM at its
// fewest steps, summarised like any other column.
func TestReportPairedDifferences(t *testing.T) {
	rows := []*Row{
		{Key: Key{"sr4", "cpigdm", 10}, PSNR: []float64{30, 31, 29}, SSIM: []float64{0.9, 0.9, 0.9}},
		{Key: Key{"sr4", "cpigdm", 5}, PSNR: []float64{28, 30, 26}, SSIM: []float64{0.8, 0.7, 0.9}},
		{Key: Key{"sr4", "pigdm", 20}, PSNR: []float64{27, 28, 26}, SSIM: []float64{0.7, 0.7, 0.8}},
	}
	var b bytes.Buffer
	if err := WriteReport(&b, Header{}, rows); err != nil {
		t.Fatal(err)
	}
	// vs pigdm 20: differences 1, 2, 0 → mean 1, sd 1, t(0.975, 2) = 4.3027 → ±2.48.
	// vs cpigdm 10: −2, −1, −3 → mean −2, same interval.
	for _, want := range []string{"C-ΠGDM at 5 steps", "| pigdm | 20 | 1.00 ± 2.48 | 0.0667 ± 0.1434 |", "| cpigdm | 10 | -2.00 ± 2.48 |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// Concurrent jobs give exactly the numbers, outputs and order of one job:
// every image's masks, noise and seeds derive from its index alone.
func TestRunJobsDeterministic(t *testing.T) {
	m, imgs := tinySetup(t, 11, 5)
	c := tinyConfig(m, imgs, []Task{Tasks[1], Tasks[3]}, []string{"cpigdm", "pigdm", Pinv}, []int{1, 3})
	one, err := Run(c, 3)
	if err != nil {
		t.Fatal(err)
	}
	c.Jobs = 3
	many, err := Run(c, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != len(many) {
		t.Fatalf("%d rows with one job, %d with three", len(one), len(many))
	}
	for r := range one {
		a, b := one[r], many[r]
		if a.Key != b.Key || !slices.Equal(a.PSNR, b.PSNR) || !slices.Equal(a.SSIM, b.SSIM) || !slices.Equal(a.Consistency, b.Consistency) ||
			!slices.Equal(a.HF, b.HF) || a.SWD != b.SWD || !(a.SWD > 0) {
			t.Errorf("row %d: one job %v %v SWD %g, three jobs %v %v SWD %g", r, a.Key, a.PSNR, a.SWD, b.Key, b.PSNR, b.SWD)
		}
		for i := range a.Outputs {
			if !slices.Equal(a.Outputs[i].X, b.Outputs[i].X) {
				t.Errorf("%v image %d: outputs differ", a.Key, i)
			}
		}
	}
}

// A failing restoration stops the run and names the row and image.
func TestRunJobsError(t *testing.T) {
	m, imgs := tinySetup(t, 12, 4)
	c := Config{Images: imgs, Res: 16, Tasks: []Task{Tasks[0]}, Methods: []string{"cpigdm"}, Steps: []int{2}, Jobs: 2,
		Options: func(Task, sampler.Method, int) sampler.Options {
			o := sampler.DefaultOptions(sampler.CPiGDM)
			o.Tau0 = 2 // outside (0, 1]: the sampler refuses it
			return o
		},
		Backend: func() sampler.Backend { return cpu.New(m.NewRunner()) }}
	if _, err := Run(c, 0); err == nil || !strings.Contains(err.Error(), "sr4 cpigdm 2 steps, image") {
		t.Fatalf("error %v, want one naming the row and image", err)
	}
}

// The baselines of an inpainting task and the hole PSNR column: every
// method keeps the kept pixels (the 8-bit observation's), and the hole
// PSNR is the PSNR over the hole pixels alone, computed here from its
// definition. PlainStart changes the samplers' output (the starts matter)
// but not the baselines'.
func TestInpaintBaselinesAndHoles(t *testing.T) {
	m, imgs := tinySetup(t, 9, 2)
	task, err := LookupTask("inpaint-free")
	if err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(m, imgs, []Task{task}, []string{"cpigdm", Pinv, Fill, Lanczos, Wiener}, []int{1})
	rows, err := Run(c, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 { // cpigdm, pinv, fill: lanczos and wiener do not apply
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for _, row := range rows {
		for i, img := range imgs {
			_, keep, _ := task.Operator(16, i, c.Seed)
			observed := slices.Clone(img.X)
			imaging.Quantize(observed)
			var se float64
			n := 0
			for p, k := range keep {
				for ch := range restore.Channels {
					x := row.Outputs[i].X[ch*256+p]
					if k && math.Abs(x-observed[ch*256+p]) > 1e-12 {
						t.Fatalf("%v image %d: kept pixel %d changed: %v, observed %v", row.Key, i, p, x, observed[ch*256+p])
					}
					if !k {
						d := (math.Max(-1, math.Min(1, x)) - img.X[ch*256+p]) / 2
						se += d * d
						n++
					}
				}
			}
			if want := 10 * math.Log10(float64(n)/se); math.Abs(row.HolePSNR[i]-want) > 1e-9 {
				t.Errorf("%v image %d: hole PSNR %v, want %v", row.Key, i, row.HolePSNR[i], want)
			}
		}
	}
	c.PlainStart = true
	plain, err := Run(c, 2)
	if err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		same := slices.Equal(rows[r].Outputs[0].X, plain[r].Outputs[0].X)
		if sampler := rows[r].Method == "cpigdm"; same == sampler {
			t.Errorf("%v: PlainStart changed the output: %v, want %v", rows[r].Key, !same, sampler)
		}
	}
}
