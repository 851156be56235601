package eval

import (
	"fmt"
	"image"
	"image/draw"
	"io"
	"math"
	"strings"

	"conjure/imaging"
	"conjure/restore"
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
		"consistency ‖y − Hx‖/‖y‖ against the (possibly noisy) measurement. Each cell is the mean ± the half-width of its 95% " +
		"Student-t interval over the images. ms is the mean wall time per image.\n")
	task := ""
	for _, r := range rows {
		if r.Task != task {
			task = r.Task
			fmt.Fprintf(&b, "\n## %s\n\n| method | steps | PSNR | SSIM | consistency | ms |\n|---|---|---|---|---|---|\n", task)
		}
		p, s, c := r.Summaries()
		steps := "—"
		if r.Steps > 0 {
			steps = fmt.Sprint(r.Steps)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.0f |\n", r.Method, steps, cell(p, 2), cell(s, 4), cell(c, 4), r.MS)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cell(s Summary, digits int) string {
	if math.IsNaN(s.CI) {
		return fmt.Sprintf("%.*f", digits, s.Mean)
	}
	return fmt.Sprintf("%.*f ± %.*f", digits, s.Mean, digits, s.CI)
}

// Montage lays out, for each kept image (a row), the observation, every
// row's output and the ground truth (columns), each tile scaled by zoom.
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
	n := len(mine[0].Outputs)
	tile := c.Res * zoom
	cols := len(mine) + 2
	m := image.NewNRGBA(image.Rect(0, 0, cols*tile, n*tile))
	for i := range n {
		op, _, err := t.Operator(c.Res, i, c.Seed)
		if err != nil {
			return nil, err
		}
		y := measure(op, c.Images[i].X, t.SigmaY, c.Seed+uint64(i))
		tiles := [][]float64{Observation(t, op, y, c.Res)}
		for _, r := range mine {
			tiles = append(tiles, r.Outputs[i])
		}
		tiles = append(tiles, c.Images[i].X)
		for j, x := range tiles {
			img, err := imaging.Image(x, restore.Channels, c.Res, c.Res)
			if err != nil {
				return nil, err
			}
			draw.Draw(m, image.Rect(j*tile, i*tile, (j+1)*tile, (i+1)*tile), zoomed(img, zoom), image.Point{}, draw.Src)
		}
	}
	return m, nil
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
