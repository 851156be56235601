// Package eval measures restorations on held-out images: every task, method
// and step count, with PSNR, SSIM and measurement consistency summarised as
// means with 95% intervals, a Markdown report and montages.
package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"conjure/imaging"
	"conjure/metrics"
	"conjure/operator"
	"conjure/restore"
	"conjure/sampler"
)

// Baselines that are not samplers.
const (
	Pinv    = "pinv"    // H†y: no prior at all
	Bicubic = "bicubic" // plain bicubic upscale of y (4× SR tasks only)
)

// Methods lists every method eval knows, samplers first.
var Methods = []string{string(sampler.CPiGDM), string(sampler.PiGDM), string(sampler.DDNM), string(sampler.DPS), Pinv, Bicubic}

// Config describes one evaluation.
type Config struct {
	Images  []Image
	Res     int
	Tasks   []Task
	Methods []string
	Steps   []int
	Seed    uint64
	// Options returns the sampler options for a task, method and step
	// count (the shipped presets unless a sweep overrides them).
	Options func(t Task, m sampler.Method, steps int) sampler.Options
	// Backend returns a backend to run on. Run calls it once per
	// concurrent job and uses each backend from one goroutine at a time.
	Backend func() sampler.Backend
	// Jobs is how many restorations run at once (at most 1: one at a
	// time). Results do not depend on it: every image's seeds derive
	// from its index.
	Jobs int
	// Progress, if set, is called after each restoration, from one
	// goroutine at a time.
	Progress func(done, total int, what string)
}

// Key identifies one row of results.
type Key struct {
	Task, Method string
	Steps        int // 0 for baselines without steps
}

// Summary is a mean with the half-width of its 95% confidence interval.
type Summary struct{ Mean, CI float64 }

// summaryJSON is Summary in JSON, where NaN (a mean of no images, an
// interval of one) is null.
type summaryJSON struct {
	Mean *float64 `json:"mean"`
	CI   *float64 `json:"ci"`
}

// MarshalJSON writes {"mean": m, "ci": c}, NaN as null.
func (s Summary) MarshalJSON() ([]byte, error) {
	num := func(x float64) *float64 {
		if math.IsNaN(x) {
			return nil
		}
		return &x
	}
	return json.Marshal(summaryJSON{num(s.Mean), num(s.CI)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var j summaryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	val := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	s.Mean, s.CI = val(j.Mean), val(j.CI)
	return nil
}

// Row holds the per-image metrics of one Key and their summaries.
type Row struct {
	Key
	PSNR, SSIM, Consistency []float64
	MS                      float64 // mean wall time per image
	Outputs                 [][]float64
}

// Summaries returns PSNR, SSIM and consistency summaries.
func (r *Row) Summaries() (psnr, ssim, cons Summary) {
	return summarize(r.PSNR), summarize(r.SSIM), summarize(r.Consistency)
}

func summarize(v []float64) Summary {
	n := float64(len(v))
	if n == 0 {
		return Summary{math.NaN(), math.NaN()}
	}
	var s, ss float64
	for _, x := range v {
		s += x
	}
	mean := s / n
	if n < 2 {
		return Summary{mean, math.NaN()}
	}
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	return Summary{mean, t * math.Sqrt(ss/(n-1)/n)}
}

// applies reports whether method m makes sense for task t.
func applies(t Task, m string) bool {
	return m != Bicubic || t.Base == restore.SR4 || t.Base == restore.SR4Box
}

// Run evaluates every task × method × steps on every image and returns the
// rows in report order. Outputs of the first keep images are kept for
// montages.
func Run(c Config, keep int) ([]*Row, error) {
	var rows []*Row
	for _, t := range c.Tasks {
		for _, m := range c.Methods {
			if !applies(t, m) {
				continue
			}
			for _, n := range stepsFor(m, c.Steps) {
				rows = append(rows, newRow(Key{t.Name, m, n}, len(c.Images), keep))
			}
		}
	}
	// One unit per row and image; a row's results land at the image's
	// index, so the order units finish in does not matter.
	type unit struct{ row, img int }
	units := make([]unit, 0, len(rows)*len(c.Images))
	for r := range rows {
		for i := range c.Images {
			units = append(units, unit{r, i})
		}
	}
	elapsed := make([]time.Duration, len(units))
	var mu sync.Mutex
	done := 0
	err := parallel(c, len(units), func(b sampler.Backend, u int) error {
		row, i := rows[units[u].row], units[u].img
		t, _ := LookupTask(row.Task)
		img := c.Images[i]
		op, _, err := t.Operator(c.Res, i, c.Seed)
		if err != nil {
			return err
		}
		y := measure(op, img.X, t.SigmaY, c.Seed+uint64(i))
		start := time.Now()
		x, err := restoreOne(c, b, t, row.Key, op, y, uint64(i))
		if err != nil {
			return fmt.Errorf("%s %s %d steps, image %s: %w", row.Task, row.Method, row.Steps, img.Name, err)
		}
		elapsed[u] = time.Since(start)
		hx := make([]float64, op.Out())
		op.Forward(hx, x)
		row.PSNR[i] = metrics.PSNR(x, img.X)
		row.SSIM[i] = metrics.SSIM(x, img.X, restore.Channels, c.Res, c.Res)
		row.Consistency[i] = metrics.Consistency(y, hx)
		if i < len(row.Outputs) {
			row.Outputs[i] = x
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		if c.Progress != nil {
			c.Progress(done, len(units), fmt.Sprintf("%s %s %d", row.Task, row.Method, row.Steps))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for u, d := range elapsed {
		rows[units[u].row].MS += float64(d.Microseconds()) / 1000 / float64(len(c.Images))
	}
	return rows, nil
}

// newRow returns a row with room for n images' metrics and the outputs of
// the first keep.
func newRow(k Key, n, keep int) *Row {
	return &Row{Key: k, PSNR: make([]float64, n), SSIM: make([]float64, n),
		Consistency: make([]float64, n), Outputs: make([][]float64, min(keep, n))}
}

// parallel calls f(b, u) for every unit u in [0, n) on c.Jobs goroutines,
// each with a backend of its own from c.Backend, and returns the first
// error; after an error no new unit starts.
func parallel(c Config, n int, f func(b sampler.Backend, u int) error) error {
	jobs := min(max(c.Jobs, 1), n)
	next := make(chan int)
	errs := make(chan error, jobs)
	var stop atomic.Bool
	for range jobs {
		go func() {
			b := c.Backend()
			var err error
			for u := range next {
				if stop.Load() {
					continue // drain: another job failed
				}
				if err = f(b, u); err != nil {
					stop.Store(true)
				}
			}
			errs <- err
		}()
	}
	for u := range n {
		if stop.Load() {
			break
		}
		next <- u
	}
	close(next)
	var first error
	for range jobs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func stepsFor(m string, steps []int) []int {
	if m == Pinv || m == Bicubic {
		return []int{0}
	}
	return steps
}

// measure returns y = Hx + σ_y·n with noise seeded per image.
func measure(op operator.Operator, x []float64, sigmaY float64, seed uint64) []float64 {
	y := make([]float64, op.Out())
	op.Forward(y, x)
	if sigmaY > 0 {
		for i, n := range sampler.Noise(len(y), seed^0x6e6f697365) {
			y[i] += sigmaY * n
		}
	}
	return y
}

func restoreOne(c Config, b sampler.Backend, t Task, k Key, op operator.Operator, y []float64, i uint64) ([]float64, error) {
	switch k.Method {
	case Pinv:
		x := make([]float64, op.In())
		op.Pinv(x, y)
		return x, nil
	case Bicubic:
		s := c.Res / 4
		return imaging.Resize(y, restore.Channels, s, s, c.Res, c.Res), nil
	}
	o := c.Options(t, sampler.Method(k.Method), k.Steps)
	x, err := restore.Run(b, op, y, t.SigmaY, o, c.Seed+i, nil)
	// Backends that keep device copies of operators (the GPU's) release
	// this image's: every image gets an operator of its own.
	if f, ok := b.(forgetter); ok {
		f.Forget(op)
	}
	return x, err
}

// forgetter is implemented by backends that cache per-operator state.
type forgetter interface {
	Forget(op operator.Operator)
}

// Observation returns what a person would see of image i's measurement, as
// an R×R planar image: y upscaled (nearest) for super-resolution, y itself
// for deblurring, H†y otherwise (holes mid-grey, grayscale replicated).
func Observation(t Task, op operator.Operator, y []float64, res int) []float64 {
	switch t.Base {
	case restore.SR4, restore.SR4Box:
		s := res / 4
		x := make([]float64, restore.Channels*res*res)
		for k := range restore.Channels {
			for i := range res {
				for j := range res {
					x[k*res*res+i*res+j] = y[k*s*s+(i/4)*s+j/4]
				}
			}
		}
		return x
	case restore.Deblur:
		return slices.Clone(y)
	}
	x := make([]float64, op.In())
	op.Pinv(x, y)
	return x
}
