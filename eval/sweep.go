package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"

	"conjure/restore"
	"conjure/sampler"
)

// Trial is the result of one sweep point: a method at one setting of
// (w, λ, τ₀) and one step count, on one task.
type Trial struct {
	Task        string         `json:"task"`
	Method      sampler.Method `json:"method"`
	Steps       int            `json:"steps"`
	Point       restore.Preset `json:"point"`
	PSNR        Summary        `json:"psnr"`
	SSIM        Summary        `json:"ssim"`
	Consistency Summary        `json:"consistency"`
	HF          Summary        `json:"hf"`
	SWD         float64        `json:"swd"` // ×10³, over the trial's images (Row.SWD)
	Best        bool           `json:"-"`   // the point the sweep chose for this method, base task and step count
}

// MarshalJSON writes the trial with an SWD that is not a number (the
// patches of a diverged restoration) as null.
func (tr Trial) MarshalJSON() ([]byte, error) {
	type plain Trial
	return json.Marshal(struct {
		plain
		SWD *float64 `json:"swd"`
	}{plain(tr), nullable(tr.SWD)})
}

// UnmarshalJSON reads what MarshalJSON writes, a null SWD as NaN.
func (tr *Trial) UnmarshalJSON(b []byte) error {
	type plain Trial
	j := struct {
		*plain
		SWD *float64 `json:"swd"`
	}{plain: (*plain)(tr)}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	tr.SWD = orNaN(j.SWD)
	return nil
}

// Objective is how a sweep chooses a preset among its points.
type Objective struct {
	// PSNRSlack, in dB: 0 chooses the point with the highest mean PSNR;
	// above 0, the point with the lowest mean SWD among those whose mean
	// PSNR is within PSNRSlack of the highest. PSNR alone drifts to
	// near-projections that keep no detail (low HF, high SWD); a slack
	// trades a bounded loss of fidelity for realistic texture. Among equal
	// SWDs the highest-PSNR point wins, then the earlier one.
	PSNRSlack float64
}

// Resume lets a sweep continue an earlier one on the same images, seed and
// model: an interrupted run, or a grid that grew.
type Resume struct {
	Done []*Trial
	// Save, if set, is called after every trial run, from one goroutine
	// at a time; an error stops the sweep.
	Save func(*Trial) error
}

// trialKey identifies a trial's setting.
type trialKey struct {
	task   string
	method sampler.Method
	steps  int
	point  restore.Preset
}

func (t *Trial) key() trialKey { return trialKey{t.Task, t.Method, t.Steps, t.Point} }

// Sweep runs every method of methods at every point on every task and step
// count of c (c.Methods and c.Options are ignored) and returns the trials in
// report order with the presets it chose by obj: for each method, base task
// and step count, scores are averaged over the evaluation tasks that share
// a preset (inpaint-box and inpaint-free both tune inpaint; sr4-noisy tunes
// sr4+noisy). Ties keep the earlier point.
// With r, trials r.Done already holds (same task, method, steps and point)
// are reused instead of run, and r.Save is called after each new one.
func Sweep(c Config, methods []sampler.Method, points []restore.Preset, obj Objective, r *Resume) ([]*Trial, restore.Presets, error) {
	if len(points) == 0 || len(methods) == 0 {
		return nil, nil, fmt.Errorf("sweep: need at least one method and one point")
	}
	if !(obj.PSNRSlack >= 0) {
		return nil, nil, fmt.Errorf("sweep: PSNR slack %g dB: want 0 or more", obj.PSNRSlack)
	}
	var trials []*Trial
	for _, t := range c.Tasks {
		for _, m := range methods {
			for _, n := range c.Steps {
				for _, p := range points {
					trials = append(trials, &Trial{Task: t.Name, Method: m, Steps: n, Point: p})
				}
			}
		}
	}
	var todo []*Trial
	known := map[trialKey]*Trial{}
	if r != nil {
		for _, tr := range r.Done {
			known[tr.key()] = tr
		}
	}
	for _, tr := range trials {
		if k, ok := known[tr.key()]; ok {
			tr.PSNR, tr.SSIM, tr.Consistency, tr.HF, tr.SWD = k.PSNR, k.SSIM, k.Consistency, k.HF, k.SWD
		} else {
			todo = append(todo, tr)
		}
	}
	total := len(todo) * len(c.Images)
	var mu sync.Mutex
	done := 0
	// Trials run concurrently, each on one job's backend, its images in
	// turn; the results land in the trial, so the report order holds.
	err := parallel(c, len(todo), func(b sampler.Backend, i int) error {
		tr := todo[i]
		t, _ := LookupTask(tr.Task)
		run := c
		run.Tasks, run.Methods, run.Steps = []Task{t}, []string{string(tr.Method)}, []int{tr.Steps}
		run.Jobs, run.Backend = 1, func() sampler.Backend { return b }
		run.Options = func(Task, sampler.Method, int) sampler.Options {
			o := sampler.DefaultOptions(tr.Method)
			o.Steps, o.W, o.Lambda, o.Tau0 = tr.Steps, tr.Point.W, tr.Point.Lambda, tr.Point.Tau0
			return o
		}
		run.Progress = func(_, _ int, what string) {
			mu.Lock()
			defer mu.Unlock()
			done++
			if c.Progress != nil {
				c.Progress(done, total, fmt.Sprintf("%s w=%g λ=%g τ₀=%g", what, tr.Point.W, tr.Point.Lambda, tr.Point.Tau0))
			}
		}
		rows, err := Run(run, 0)
		if err != nil {
			return err
		}
		tr.PSNR, tr.SSIM, tr.Consistency = rows[0].Summaries()
		tr.HF, tr.SWD = summarize(rows[0].HF), rows[0].SWD
		if r == nil || r.Save == nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		return r.Save(tr)
	})
	if err != nil {
		return nil, nil, err
	}
	return trials, c.choose(trials, obj), nil
}

// choose marks and returns the best point by obj per method, base task and
// steps.
func (c Config) choose(trials []*Trial, obj Objective) restore.Presets {
	base := map[string]restore.Key{}
	for _, t := range c.Tasks {
		base[t.Name] = restore.KeyFor(t.Base, c.Noise(t))
	}
	type group struct {
		m sampler.Method
		t restore.Key
		n int
	}
	type score struct {
		psnr, swd float64
		count     int
	}
	scores := map[group]map[restore.Preset]*score{}
	var order []group
	for _, tr := range trials {
		g := group{tr.Method, base[tr.Task], tr.Steps}
		if scores[g] == nil {
			scores[g] = map[restore.Preset]*score{}
			order = append(order, g)
		}
		if scores[g][tr.Point] == nil {
			scores[g][tr.Point] = &score{}
		}
		s := scores[g][tr.Point]
		s.psnr += tr.PSNR.Mean
		s.swd += tr.SWD
		s.count++
	}
	presets := restore.Presets{}
	for _, g := range order {
		in := func(tr *Trial) bool { return (group{tr.Method, base[tr.Task], tr.Steps}) == g }
		mean := func(tr *Trial) (psnr, swd float64) {
			s := scores[g][tr.Point]
			return s.psnr / float64(s.count), s.swd / float64(s.count)
		}
		var best restore.Preset
		top, bestSWD := math.Inf(-1), math.Inf(1)
		for _, tr := range trials { // trial order, so ties keep the earlier point
			if !in(tr) {
				continue
			}
			if p, swd := mean(tr); p > top {
				best, top, bestSWD = tr.Point, p, swd
			}
		}
		for _, tr := range trials {
			if !in(tr) || obj.PSNRSlack == 0 {
				continue
			}
			if p, swd := mean(tr); p >= top-obj.PSNRSlack && swd < bestSWD {
				best, bestSWD = tr.Point, swd
			}
		}
		presets.Set(g.m, g.t, g.n, best)
		for _, tr := range trials {
			if in(tr) && tr.Point == best {
				tr.Best = true
			}
		}
	}
	return presets
}

// WriteSweep writes the Markdown tables of a sweep: one per task, method and
// step count, the chosen point in bold.
func WriteSweep(w io.Writer, h Header, obj Objective, trials []*Trial) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Sweep\n\n- model: `%s`\n- data: `%s` (%d images)\n- seed: %d\n- command: `%s`\n\n", h.Model, h.Data, h.Images, h.Seed, h.Command)
	rule := "highest mean PSNR over the tasks that share a preset"
	if obj.PSNRSlack > 0 {
		rule = fmt.Sprintf("lowest mean SWD among the settings within %g dB of the highest mean PSNR, over the tasks that share a preset", obj.PSNRSlack)
	}
	fmt.Fprintf(&b, "Each row is one setting; cells are means ± 95%% Student-t half-widths over the images, SWD one figure over them all (metrics as in report.md). "+
		"The chosen setting (%s) is in bold.\n", rule)
	var last string
	for _, tr := range trials {
		if head := fmt.Sprintf("%s, %s, %d steps", tr.Task, tr.Method, tr.Steps); head != last {
			last = head
			fmt.Fprintf(&b, "\n### %s\n\n| w | λ | τ₀ | PSNR | SSIM | consistency | HF | SWD |\n|---|---|---|---|---|---|---|---|\n", head)
		}
		row := fmt.Sprintf("%g | %g | %g | %s | %s | %s | %s | %.1f", tr.Point.W, tr.Point.Lambda, tr.Point.Tau0,
			cell(tr.PSNR, 2), cell(tr.SSIM, 4), cell(tr.Consistency, 4), cell(tr.HF, 3), tr.SWD)
		if tr.Best {
			row = "**" + strings.ReplaceAll(row, " | ", "** | **") + "**"
		}
		fmt.Fprintf(&b, "| %s |\n", row)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
