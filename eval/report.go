package eval

import (
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"slices"
	"strings"

	"conjure/imaging"
	"conjure/restore"
	"conjure/sampler"
)

// Header says what a report is about; it is printed above the tables.
type Header struct {
	Model, Command, Data string
	Images               int
	Seed                 uint64
}

// WriteReport writes the Markdown report of rows.
func WriteReport(w io.Writer, h Header, rows []*Row) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Evaluation\n\n- model: `%s`\n- data: `%s` (%d images)\n- seed: %d\n- command: `%s`\n\n", h.Model, h.Data, h.Images, h.Seed, h.Command)
	b.WriteString("Metrics: PSNR (dB) and SSIM (11×11 Gaussian window, σ = 1.5) on [0, 1] RGB after clipping the output to [−1, 1]; " +
		"consistency ‖y − Hx‖/‖y‖ against the (possibly noisy) measurement; HF, the output's finest-Laplacian-level energy over the " +
		"truth's (1: as much fine detail, below: blurrier, above: noisier); SWD, the sliced Wasserstein distance ×10³ between the " +
		"multi-scale 7×7 patch distributions of all outputs and all truths (Karras et al. 2018, §5; mean over pyramid levels; lower is " +
		"more realistic texture; one value per row, no interval). Each other cell is the mean ± the half-width of its 95% " +
		"Student-t interval over the images. ms is the mean wall time per image.\n")
	var tasks []string
	for _, r := range rows {
		if !slices.Contains(tasks, r.Task) {
			tasks = append(tasks, r.Task)
		}
	}
	for _, task := range tasks {
		holes := hasHoles(rows, task)
		hole, holeSep := "", ""
		if holes {
			hole, holeSep = " hole PSNR |", "---|"
		}
		fmt.Fprintf(&b, "\n## %s\n\n| method | steps | PSNR |%s SSIM | consistency | HF | SWD | ms |\n|---|---|---|%s---|---|---|---|---|\n", task, hole, holeSep)
		for _, r := range rows {
			if r.Task != task {
				continue
			}
			p, s, c := r.Summaries()
			h := ""
			if holes {
				h = " " + cell(summarize(r.HolePSNR), 2) + " |"
			}
			fmt.Fprintf(&b, "| %s | %s | %s |%s %s | %s | %s | %.1f | %.0f |\n", r.Method, stepsCell(r.Steps), cell(p, 2), h, cell(s, 4), cell(c, 4),
				cell(summarize(r.HF), 3), r.SWD, r.MS)
		}
		writePaired(&b, rows, task, holes)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hasHoles reports whether task's rows measure PSNR over holes
// (inpainting).
func hasHoles(rows []*Row, task string) bool {
	for _, r := range rows {
		if r.Task == task && len(r.HolePSNR) > 0 && !math.IsNaN(r.HolePSNR[0]) {
			return true
		}
	}
	return false
}

// writePaired writes, for task, every other row's per-image PSNR and SSIM
// differences (and hole PSNR's, with holes) from C-ΠGDM at its fewest
// steps, as paired means with 95% intervals: the same images and seeds on
// both sides, so these intervals are much tighter than the gaps between the
// table's marginal ones.
func writePaired(b *strings.Builder, rows []*Row, task string, holes bool) {
	var ref *Row
	for _, r := range rows {
		if r.Task == task && r.Method == string(sampler.CPiGDM) && (ref == nil || r.Steps < ref.Steps) {
			ref = r
		}
	}
	if ref == nil {
		return
	}
	hole, holeSep := "", ""
	if holes {
		hole, holeSep = " Δhole PSNR |", "---|"
	}
	fmt.Fprintf(b, "\nPaired differences, C-ΠGDM at %d steps minus each other row (positive: C-ΠGDM better):\n\n| vs method | steps | ΔPSNR |%s ΔSSIM |\n|---|---|---|%s---|\n", ref.Steps, hole, holeSep)
	for _, r := range rows {
		if r.Task != task || r == ref {
			continue
		}
		h := ""
		if holes {
			h = " " + cell(summarize(diff(ref.HolePSNR, r.HolePSNR)), 2) + " |"
		}
		fmt.Fprintf(b, "| %s | %s | %s |%s %s |\n", r.Method, stepsCell(r.Steps), cell(summarize(diff(ref.PSNR, r.PSNR)), 2), h, cell(summarize(diff(ref.SSIM, r.SSIM)), 4))
	}
}

// stepsCell shows a row's step count, a dash for baselines without steps.
func stepsCell(n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprint(n)
}

// diff returns a − b elementwise.
func diff(a, b []float64) []float64 {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}

func cell(s Summary, digits int) string {
	if math.IsNaN(s.CI) {
		return fmt.Sprintf("%.*f", digits, s.Mean)
	}
	return fmt.Sprintf("%.*f ± %.*f", digits, s.Mean, digits, s.CI)
}

// montageCrop is the side of the 1:1 crops a whole-photo montage shows.
const montageCrop = 128

// Montage lays out, for each kept image (a row), the observation, every
// row's output and the ground truth (columns). Framed images are shown
// whole, scaled by zoom; whole photos as the same crop of at most
// montageCrop² pixels of each, at 1:1, centred on the photo or, for
// inpainting, on the holes.
func Montage(t Task, c Config, rows []*Row, zoom int) (*image.NRGBA, error) {
	var mine []*Row
	for _, r := range rows {
		if r.Task == t.Name && len(r.Outputs) > 0 {
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 {
		return nil, fmt.Errorf("eval: no outputs kept for task %s", t.Name)
	}
	if c.Photo {
		zoom = 1
	}
	cell := 0
	for _, o := range mine[0].Outputs {
		if c.Photo {
			cell = max(cell, min(montageCrop, o.H, o.W))
		} else {
			cell = max(cell, o.H*zoom)
		}
	}
	n := len(mine[0].Outputs)
	cols := len(mine) + 2
	m := image.NewNRGBA(image.Rect(0, 0, cols*cell, n*cell))
	for i := range n {
		first := mine[0].Outputs[i]
		tiles := [][]float64{first.Obs}
		for _, r := range mine {
			tiles = append(tiles, r.Outputs[i].X)
		}
		tiles = append(tiles, first.Truth)
		for j, x := range tiles {
			img, err := imaging.Image(x, restore.Channels, first.H, first.W)
			if err != nil {
				return nil, err
			}
			var src image.Image = zoomed(img, zoom)
			from := image.Point{}
			if c.Photo {
				from = cropCorner(first, min(montageCrop, first.H, first.W))
			}
			draw.Draw(m, image.Rect(j*cell, i*cell, (j+1)*cell, (i+1)*cell), src, from, draw.Src)
		}
	}
	return m, nil
}

// cropCorner returns the top-left corner of the side×side crop of o a
// montage shows: centred on the centroid of o's holes, or on the image
// without any, and kept inside it.
func cropCorner(o Output, side int) image.Point {
	cy, cx := o.H/2, o.W/2
	var sy, sx, n int
	for p, h := range o.Hole {
		if h {
			sy, sx, n = sy+p/o.W, sx+p%o.W, n+1
		}
	}
	if n > 0 {
		cy, cx = sy/n, sx/n
	}
	return image.Pt(max(0, min(o.W-side, cx-side/2)), max(0, min(o.H-side, cy-side/2)))
}

// zoomed returns img enlarged by an integer factor with crisp pixels.
func zoomed(img *image.NRGBA, k int) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range b.Dy() * k {
		for x := range b.Dx() * k {
			out.SetNRGBA(x, y, img.NRGBAAt(x/k, y/k))
		}
	}
	return out
}
