// Package eval measures restorations on held-out images: every task, method
// and step count, with PSNR, SSIM and measurement consistency summarised as
// means with 95% intervals, a Markdown report and montages. Images are
// either framed at a model's resolution (the face model) or whole photos
// at their own size, restored as `conjure restore` restores them.
package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"conjure/classical"
	"conjure/imaging"
	"conjure/metrics"
	"conjure/operator"
	"conjure/restore"
	"conjure/sampler"
)

// Baselines that are not samplers: what a person would use instead.
const (
	Pinv    = "pinv"    // H†y: no prior at all
	Bicubic = "bicubic" // plain bicubic upscale of y (SR tasks only)
	Lanczos = "lanczos" // Lanczos-3 upscale of y (SR tasks only)
	Fill    = "fill"    // harmonic fill of the holes, the inpainting start (inpainting only)
	Wiener  = "wiener"  // Wiener deconvolution (deblurring only)
	Input   = "input"   // the observation itself (deblurring and denoising)
	NLM     = "nlm"     // non-local means (denoising only)
)

// Methods lists every method eval knows, samplers first.
var Methods = []string{string(sampler.CPiGDM), string(sampler.PiGDM), string(sampler.DDNM), string(sampler.DPS),
	Pinv, Bicubic, Lanczos, Fill, Wiener, Input, NLM}

// baselines are the methods without steps.
var baselines = []string{Pinv, Bicubic, Lanczos, Fill, Wiener, Input, NLM}

// Config describes one evaluation.
type Config struct {
	Images []Image
	// Res is the side of framed images; with Photo set, images keep their
	// own size and are restored as whole photos (restore.Photo).
	Res   int
	Photo bool
	Work  int // whole photos: inpainting's and colourisation's working side (0: the default)
	// PlainStart starts every task from H†y with fresh noise at τ₀
	// (sampler.Start's zero value) instead of its own estimate
	// (restore.StartFor): what the starts bring, measured.
	PlainStart bool
	Tasks      []Task
	Methods    []string
	Steps      []int
	Seed       uint64
	// Options returns the sampler options for a task, method and step
	// count (the shipped presets unless a sweep overrides them).
	Options func(t Task, m sampler.Method, steps int) sampler.Options
	// Backend returns a backend to run on. Run calls it once per
	// concurrent job and uses each backend from one goroutine at a time.
	// Framed images only.
	Backend func() sampler.Backend
	// PhotoBackend returns a backend for an h×w image (whole photos: the
	// tiled network depends on the size). Run calls it per restoration.
	PhotoBackend func(h, w int) (sampler.Backend, error)
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

// summaryJSON is Summary in JSON, where a value that is not a number (a
// mean of no images, an interval of one, a diverged restoration) is null.
type summaryJSON struct {
	Mean *float64 `json:"mean"`
	CI   *float64 `json:"ci"`
}

// nullable returns &x, or nil when x is NaN or infinite: JSON has neither.
func nullable(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// orNaN reads what nullable writes: null as NaN.
func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON writes {"mean": m, "ci": c}, NaN and ±Inf as null.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(summaryJSON{nullable(s.Mean), nullable(s.CI)})
}

// UnmarshalJSON reads what MarshalJSON writes, null as NaN.
func (s *Summary) UnmarshalJSON(b []byte) error {
	var j summaryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	s.Mean, s.CI = orNaN(j.Mean), orNaN(j.CI)
	return nil
}

// Row holds the per-image metrics of one Key and their summaries.
type Row struct {
	Key
	PSNR, SSIM, Consistency []float64
	// HolePSNR is the PSNR over an inpainting's holes alone (NaN for the
	// other tasks): what a fill is judged by, since the kept pixels are
	// the truth's whatever the method.
	HolePSNR []float64
	// HF is each output's high-frequency energy over the truth's
	// (metrics.HighFrequencyRatio): 1 as much fine detail, below 1 blurrier.
	HF []float64
	// SWD is the sliced Wasserstein distance ×10³ between the multi-scale
	// 7×7 patch distributions of the outputs and of the truths, averaged
	// over pyramid levels (metrics.SWD): a set-level measure of how
	// realistic the texture is, which PSNR does not see.
	SWD     float64
	MS      float64 // mean wall time per image
	Outputs []Output
	patches [2][]*metrics.PatchSet // per image: output's, truth's
}

// Patch sampling of the SWD column: 64 patches of each pyramid level of each
// image, up to 4 levels, 128 directions (the paper: 128, and 512).
const (
	swdLevels     = 4
	swdPatches    = 64
	swdDirections = 128
)

// Output is one kept restoration with what a montage shows beside it.
type Output struct {
	X, Obs, Truth []float64 // output, observation and ground truth, Channels×H×W
	H, W          int
	// Hole marks an inpainting's hole pixels (H·W), nil otherwise: a
	// whole-photo montage centres its crop on them.
	Hole []bool
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
	switch m {
	case Bicubic, Lanczos:
		return restore.Factor(t.Base) > 1
	case Fill:
		return t.Base == restore.Inpaint
	case Wiener:
		return t.Base == restore.Deblur
	case Input:
		return t.Base == restore.Deblur || t.Base == restore.Denoise
	case NLM:
		return t.Base == restore.Denoise
	}
	return true
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
		start := time.Now()
		r, err := c.restoreImage(b, t, row.Key, img, uint64(i))
		if err != nil {
			return fmt.Errorf("%s %s %d steps, image %s: %w", row.Task, row.Method, row.Steps, img.Name, err)
		}
		elapsed[u] = time.Since(start)
		row.PSNR[i] = metrics.PSNR(r.X, r.Truth)
		row.SSIM[i] = metrics.SSIM(r.X, r.Truth, restore.Channels, r.H, r.W)
		row.Consistency[i] = r.consistency
		row.HolePSNR[i] = math.NaN()
		if r.hole != nil {
			row.HolePSNR[i] = metrics.PSNRWhere(r.X, r.Truth, restore.Channels, r.hole)
		}
		row.HF[i] = metrics.HighFrequencyRatio(r.X, r.Truth, restore.Channels, r.H, r.W)
		for s, x := range [2][]float64{r.X, r.Truth} {
			ps := metrics.NewPatchSet(swdLevels, swdPatches, c.Seed<<20+uint64(i))
			ps.Add(x, restore.Channels, r.H, r.W)
			row.patches[s][i] = ps
		}
		if i < len(row.Outputs) {
			row.Outputs[i] = r.Output
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
	for _, r := range rows {
		if err := r.finishSWD(); err != nil {
			return nil, fmt.Errorf("%s %s %d steps: %w", r.Task, r.Method, r.Steps, err)
		}
	}
	return rows, nil
}

// finishSWD merges the per-image patch sets in image order, so the result
// does not depend on the order images finished in, and sets r.SWD.
func (r *Row) finishSWD() error {
	var sets [2]*metrics.PatchSet
	for s := range sets {
		sets[s] = metrics.NewPatchSet(swdLevels, swdPatches, 0)
		for _, ps := range r.patches[s] {
			sets[s].Merge(ps)
		}
		r.patches[s] = nil
	}
	d, err := metrics.SWD(sets[0], sets[1], swdDirections, 1)
	if err != nil {
		return err
	}
	r.SWD = 0
	for _, v := range d {
		r.SWD += 1e3 * v / float64(len(d))
	}
	return nil
}

// newRow returns a row with room for n images' metrics and the outputs of
// the first keep.
func newRow(k Key, n, keep int) *Row {
	return &Row{Key: k, PSNR: make([]float64, n), SSIM: make([]float64, n), HF: make([]float64, n), HolePSNR: make([]float64, n),
		Consistency: make([]float64, n), Outputs: make([]Output, min(keep, n)),
		patches: [2][]*metrics.PatchSet{make([]*metrics.PatchSet, n), make([]*metrics.PatchSet, n)}}
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
			var b sampler.Backend
			if c.Backend != nil {
				b = c.Backend()
			}
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
	if slices.Contains(baselines, m) {
		return []int{0}
	}
	return steps
}

// measure returns y = Hx + σ_y·n with noise seeded per image, rounded to 8
// bits as a saved photo is.
func measure(op operator.Operator, x []float64, sigmaY float64, seed uint64) []float64 {
	y := make([]float64, op.Out())
	op.Forward(y, x)
	if sigmaY > 0 {
		for i, n := range sampler.Noise(len(y), seed^0x6e6f697365) {
			y[i] += sigmaY * n
		}
	}
	imaging.Quantize(y)
	return y
}

// result is one restoration with its consistency ‖y − Hx‖/‖y‖, measured
// on the sampler's own solution, and for inpainting the holes (one flag
// per pixel of the output).
type result struct {
	Output
	consistency float64
	hole        []bool
}

// restoreImage degrades image i for task t and restores it with k's method.
func (c Config) restoreImage(b sampler.Backend, t Task, k Key, img Image, i uint64) (result, error) {
	if c.Photo {
		return c.restorePhoto(t, k, img, i)
	}
	op, keep, err := t.Operator(c.Res, int(i), c.Seed)
	if err != nil {
		return result{}, err
	}
	y := measure(op, img.X, t.SigmaY, c.Seed+i)
	var x []float64
	if slices.Contains(baselines, k.Method) {
		s := c.Res / restore.Factor(t.Base)
		x, err = baseline(k.Method, t, op, y, y, s, s, c.Res, c.Res)
	} else {
		o := c.Options(t, sampler.Method(k.Method), k.Steps)
		var start sampler.Start
		if !c.PlainStart {
			start, err = restore.StartFor(t.Base, op, y, t.SigmaY)
		}
		if err == nil {
			x, err = restore.Run(b, op, y, t.SigmaY, o, start, c.Seed+i, nil)
		}
		// Backends that keep device copies of operators (the GPU's)
		// release this image's: every image gets an operator of its own.
		if f, ok := b.(forgetter); ok {
			f.Forget(op)
		}
		x, err = divergedAsNaN(x, op.In(), err)
	}
	if err != nil {
		return result{}, err
	}
	hole := holes(keep)
	return result{Output{X: x, Obs: Observation(t, op, y, c.Res), Truth: img.X, H: c.Res, W: c.Res, Hole: hole}, consistency(op, y, x), hole}, nil
}

// divergedAsNaN turns a diverged restoration into an image of NaN, so its
// metrics are NaN and a sweep records the point as diverged, not as an
// error that stops it.
func divergedAsNaN(x []float64, n int, err error) ([]float64, error) {
	var d *restore.DivergedError
	if errors.As(err, &d) {
		x = make([]float64, n)
		for i := range x {
			x[i] = math.NaN()
		}
		return x, nil
	}
	return x, err
}

// holes returns the complement of a keep-mask, or nil for none.
func holes(keep []bool) []bool {
	if keep == nil {
		return nil
	}
	h := make([]bool, len(keep))
	for i, k := range keep {
		h[i] = !k
	}
	return h
}

// baseline returns the classical restoration m (a baseline method) of the
// measurement y of op, an image of h×w pixels; input is the observation a
// person holds, ih×iw pixels (the low-resolution photo for SR).
func baseline(m string, t Task, op operator.Operator, y, input []float64, ih, iw, h, w int) ([]float64, error) {
	const c = restore.Channels
	pinv := func() []float64 {
		x := make([]float64, op.In())
		op.Pinv(x, y)
		return x
	}
	switch m {
	case Pinv:
		return pinv(), nil
	case Bicubic:
		return imaging.Resize(input, c, ih, iw, h, w), nil
	case Lanczos:
		return imaging.ResizeLanczos(input, c, ih, iw, h, w), nil
	case Fill:
		in, ok := op.(*operator.Inpaint)
		if !ok {
			return nil, fmt.Errorf("fill needs an inpainting task, not %s", t.Name)
		}
		return classical.Harmonic(pinv(), c, h, w, in.Mask()[:h*w])
	case Wiener:
		return classical.Wiener(op, y, classical.WienerRatio(t.SigmaY))
	case Input:
		return slices.Clone(input), nil
	case NLM:
		return classical.NLMeans(input, c, h, w, t.SigmaY)
	}
	return nil, fmt.Errorf("unknown baseline %q", m)
}

// Noise returns the measurement noise the restorer assumes on task t: the
// task's own, or on whole photos where it has none the task's default
// (restore.DefaultSigmaY), as `conjure restore` assumes for a photo.
func (c Config) Noise(t Task) float64 {
	if c.Photo && t.SigmaY == 0 {
		return restore.DefaultSigmaY(t.Base)
	}
	return t.SigmaY
}

// restorePhoto degrades a whole photo as restore.Simulate does and restores
// it as `conjure restore` would, at the photo's own size.
func (c Config) restorePhoto(t Task, k Key, img Image, i uint64) (result, error) {
	var keep []bool
	if t.mask != nil {
		keep = t.mask(img.H, img.W, int(i), c.Seed)
	}
	ph, truth, err := restore.Simulate(t.Base, img.X, img.H, img.W, keep, t.SigmaY, c.Seed+i)
	if err != nil {
		return result{}, err
	}
	ph.Work = c.Work
	p, err := ph.Problem()
	if err != nil {
		return result{}, err
	}
	var x []float64
	if slices.Contains(baselines, k.Method) {
		x, err = baseline(k.Method, t, p.Op, p.Y, ph.Input, ph.H, ph.W, p.H, p.W)
	} else {
		var b sampler.Backend
		if b, err = c.PhotoBackend(p.H, p.W); err != nil {
			return result{}, err
		}
		o := c.Options(t, sampler.Method(k.Method), k.Steps)
		start := p.Start
		if c.PlainStart {
			start = sampler.Start{}
		}
		x, err = restore.Run(b, p.Op, p.Y, p.SigmaY, o, start, c.Seed+i, nil)
		x, err = divergedAsNaN(x, p.Op.In(), err)
	}
	if err != nil {
		return result{}, err
	}
	obs := ph.Input
	if f := restore.Factor(t.Base); f > 1 {
		obs = nearest(ph.Input, ph.H, ph.W, f)
	}
	hole := holes(keep)
	return result{Output{X: p.Finish(x), Obs: obs, Truth: truth, H: p.OutH, W: p.OutW, Hole: hole}, consistency(p.Op, p.Y, x), hole}, nil
}

// consistency returns ‖y − Hx‖/‖y‖.
func consistency(op operator.Operator, y, x []float64) float64 {
	hx := make([]float64, op.Out())
	op.Forward(hx, x)
	return metrics.Consistency(y, hx)
}

// nearest enlarges a planar Channels×h×w image f times with crisp pixels.
func nearest(x []float64, h, w, f int) []float64 {
	H, W := f*h, f*w
	out := make([]float64, restore.Channels*H*W)
	for k := range restore.Channels {
		for i := range H {
			for j := range W {
				out[(k*H+i)*W+j] = x[(k*h+i/f)*w+j/f]
			}
		}
	}
	return out
}

// forgetter is implemented by backends that cache per-operator state.
type forgetter interface {
	Forget(op operator.Operator)
}

// Observation returns what a person would see of image i's measurement, as
// an R×R planar image: y upscaled (nearest) for super-resolution, y itself
// for deblurring, H†y otherwise (holes mid-grey, grayscale replicated).
func Observation(t Task, op operator.Operator, y []float64, res int) []float64 {
	if f := restore.Factor(t.Base); f > 1 {
		return nearest(y, res/f, res/f, f)
	}
	switch t.Base {
	case restore.Deblur, restore.Denoise:
		return slices.Clone(y)
	}
	x := make([]float64, op.In())
	op.Pinv(x, y)
	return x
}
