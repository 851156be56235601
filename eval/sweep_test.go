package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"conjure/cpu"
	"conjure/restore"
	"conjure/sampler"
)

// A small sweep on a random tiny model: one trial per task × method × steps
// × point, each the same numbers eval.Run gives for that setting, and the
// chosen preset the PSNR argmax of its group (inpaint-box and inpaint-free
// pooled, since they share the inpaint preset).
func TestSweepChoosesArgmax(t *testing.T) {
	m, imgs := tinySetup(t, 9, 2)
	box, _ := LookupTask("inpaint-box")
	free, _ := LookupTask("inpaint-free")
	c := Config{Images: imgs, Res: 16, Tasks: []Task{Tasks[0], box, free}, Steps: []int{1, 2},
		Backend: func() sampler.Backend { return cpu.New(m.NewRunner()) }}
	points := []restore.Preset{{W: 1, Tau0: 0.3}, {W: 20, Lambda: 0.5, Tau0: 0.7}, {W: 5, Tau0: 0.5}}
	trials, presets, err := Sweep(c, []sampler.Method{sampler.CPiGDM}, points, Objective{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 3*2*3 {
		t.Fatalf("%d trials, want 18", len(trials))
	}
	// One trial against a direct eval.Run of its setting.
	tr := trials[4] // sr4, 2 steps, the second point
	rows := runSetting(t, c, Tasks[0], 2, points[1])
	if p, _, _ := rows[0].Summaries(); tr.Task != "sr4" || tr.Steps != 2 || tr.Point != points[1] || p.Mean != tr.PSNR.Mean {
		t.Errorf("trial %+v, direct run PSNR %v", tr, p.Mean)
	}
	for _, n := range []int{1, 2} {
		for _, base := range []restore.Key{restore.Key(restore.SR4), restore.Key(restore.Inpaint)} {
			mean := map[restore.Preset]float64{}
			for _, tr := range trials {
				t, _ := LookupTask(tr.Task)
				if tr.Steps == n && restore.Key(t.Base) == base {
					mean[tr.Point] += tr.PSNR.Mean
				}
			}
			want := points[0]
			for _, p := range points {
				if mean[p] > mean[want] {
					want = p
				}
			}
			if got := presets.Get(sampler.CPiGDM, base, n); got != want {
				t.Errorf("%s %d steps: chose %+v, argmax is %+v (%v)", base, n, got, want, mean)
			}
			for _, tr := range trials {
				task, _ := LookupTask(tr.Task)
				if tr.Steps == n && restore.Key(task.Base) == base && tr.Best != (tr.Point == want) {
					t.Errorf("%s %d steps %+v: Best = %v", tr.Task, n, tr.Point, tr.Best)
				}
			}
		}
	}
	var b bytes.Buffer
	// Six tables (3 tasks × 2 step counts), one bold row of eight bold cells each.
	if err := WriteSweep(&b, Header{Model: "random"}, Objective{}, trials); err != nil || strings.Count(b.String(), "**") != 6*8*2 {
		t.Errorf("sweep report (%v): want one bold row per table\n%s", err, b.String())
	}
}

// runSetting evaluates C-ΠGDM at one point directly, as a sweep trial should.
func runSetting(t *testing.T, c Config, task Task, steps int, p restore.Preset) []*Row {
	t.Helper()
	c.Tasks, c.Methods, c.Steps = []Task{task}, []string{"cpigdm"}, []int{steps}
	c.Options = func(Task, sampler.Method, int) sampler.Options {
		o := sampler.DefaultOptions(sampler.CPiGDM)
		o.Steps, o.W, o.Lambda, o.Tau0 = steps, p.W, p.Lambda, p.Tau0
		return o
	}
	rows, err := Run(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// With a PSNR slack the sweep chooses, per group, the lowest mean SWD among
// the points whose mean PSNR is within the slack of the best; each trial's
// HF and SWD are those eval.Run reports for its setting.
func TestSweepSlackChoosesTexture(t *testing.T) {
	m, imgs := tinySetup(t, 11, 3)
	box, _ := LookupTask("inpaint-box")
	c := Config{Images: imgs, Res: 16, Tasks: []Task{Tasks[0], box}, Steps: []int{2},
		Backend: func() sampler.Backend { return cpu.New(m.NewRunner()) }}
	points := []restore.Preset{{W: 1, Tau0: 0.3}, {W: 20, Lambda: 0.5, Tau0: 0.7}, {W: 5, Tau0: 0.5}, {W: 60, Tau0: 0.2}}
	plain, _, err := Sweep(c, []sampler.Method{sampler.CPiGDM}, points, Objective{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := runSetting(t, c, box, 2, points[3])
	if tr := plain[7]; tr.Task != "inpaint-box" || tr.Point != points[3] || tr.SWD != rows[0].SWD || tr.HF.Mean != summarize(rows[0].HF).Mean || !(tr.SWD > 0) {
		t.Errorf("trial %+v; direct run SWD %v HF %v", *tr, rows[0].SWD, summarize(rows[0].HF).Mean)
	}
	for _, slack := range []float64{0.5, 3, 1000} {
		trials, presets, err := Sweep(c, []sampler.Method{sampler.CPiGDM}, points, Objective{PSNRSlack: slack}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range trials { // the same trials, whatever the objective
			if tr.PSNR != plain[i].PSNR || tr.SWD != plain[i].SWD {
				t.Fatalf("slack %g, trial %d: %+v, without slack %+v", slack, i, *tr, *plain[i])
			}
		}
		for _, tr := range trials {
			psnr, swd := map[restore.Preset]float64{}, map[restore.Preset]float64{}
			for _, u := range trials {
				if u.Task == tr.Task {
					psnr[u.Point], swd[u.Point] = u.PSNR.Mean, u.SWD
				}
			}
			top := math.Inf(-1)
			for _, p := range points {
				top = max(top, psnr[p])
			}
			want, low := restore.Preset{}, math.Inf(1)
			for _, p := range points {
				if psnr[p] >= top-slack && swd[p] < low {
					want, low = p, swd[p]
				}
			}
			key := restore.Key(restore.SR4)
			if tr.Task == "inpaint-box" {
				key = restore.Key(restore.Inpaint)
			}
			if got := presets.Get(sampler.CPiGDM, key, 2); got != want {
				t.Errorf("slack %g dB, %s: chose %+v, want %+v (PSNR %v, SWD %v)", slack, tr.Task, got, want, psnr, swd)
			}
		}
	}
	if _, _, err := Sweep(c, []sampler.Method{sampler.CPiGDM}, points, Objective{PSNRSlack: -1}, nil); err == nil {
		t.Error("a negative slack was accepted")
	}
}

// Trials on concurrent jobs give the same trials and presets as one job.
func TestSweepJobsDeterministic(t *testing.T) {
	m, imgs := tinySetup(t, 13, 2)
	c := Config{Images: imgs, Res: 16, Tasks: []Task{Tasks[0], Tasks[2]}, Steps: []int{2},
		Backend: func() sampler.Backend { return cpu.New(m.NewRunner()) }}
	points := []restore.Preset{{W: 1, Tau0: 0.3}, {W: 20, Tau0: 0.7}, {W: 5, Lambda: 0.3, Tau0: 0.5}}
	one, p1, err := Sweep(c, []sampler.Method{sampler.CPiGDM, sampler.PiGDM}, points, Objective{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jobs = 4
	many, p4, err := Sweep(c, []sampler.Method{sampler.CPiGDM, sampler.PiGDM}, points, Objective{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one {
		// Compared as text, so that a diverged trial's NaN metrics (random
		// networks diverge at w = 20) equal each other.
		if fmt.Sprintf("%+v", *one[i]) != fmt.Sprintf("%+v", *many[i]) {
			t.Errorf("trial %d: one job %+v, four jobs %+v", i, *one[i], *many[i])
		}
	}
	var a, b bytes.Buffer
	p1.WriteTo(&a)
	p4.WriteTo(&b)
	if a.String() != b.String() {
		t.Errorf("presets differ:\n%s\n%s", a.String(), b.String())
	}
}

// A resumed sweep reuses the trials it is given, runs only the others,
// saves each new one, and chooses as if it had run them all.
func TestSweepResume(t *testing.T) {
	m, imgs := tinySetup(t, 14, 2)
	c := Config{Images: imgs, Res: 16, Tasks: []Task{Tasks[0]}, Steps: []int{1, 2}, Jobs: 2,
		Backend: func() sampler.Backend { return cpu.New(m.NewRunner()) }}
	points := []restore.Preset{{W: 1, Tau0: 0.3}, {W: 20, Tau0: 0.7}, {W: 5, Tau0: 0.5}}
	full, want, err := Sweep(c, []sampler.Method{sampler.CPiGDM}, points, Objective{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var saved []*Trial
	first, _, err := Sweep(c, []sampler.Method{sampler.CPiGDM}, points[:2], Objective{}, &Resume{Save: func(tr *Trial) error { saved = append(saved, tr); return nil }})
	if err != nil || len(saved) != len(first) {
		t.Fatalf("first part: %v, saved %d of %d trials", err, len(saved), len(first))
	}
	// The saved trials go through JSON, as trials.json keeps them.
	b, err := json.Marshal(saved)
	if err != nil {
		t.Fatal(err)
	}
	var done []*Trial
	if err := json.Unmarshal(b, &done); err != nil {
		t.Fatal(err)
	}
	var ran int
	c.Progress = func(int, int, string) { ran++ }
	rest, got, err := Sweep(c, []sampler.Method{sampler.CPiGDM}, points, Objective{}, &Resume{Done: done})
	if err != nil {
		t.Fatal(err)
	}
	if ran != 2*len(imgs) { // the third point at 1 and 2 steps
		t.Errorf("resumed sweep ran %d restorations, want %d", ran, 2*len(imgs))
	}
	for i := range full {
		if *full[i] != *rest[i] {
			t.Errorf("trial %d: fresh %+v, resumed %+v", i, *full[i], *rest[i])
		}
	}
	var a, bb bytes.Buffer
	want.WriteTo(&a)
	got.WriteTo(&bb)
	if a.String() != bb.String() {
		t.Errorf("presets differ:\n%s\n%s", a.String(), bb.String())
	}
}

// Summaries survive JSON, NaN (one image's interval) as null.
func TestSummaryJSON(t *testing.T) {
	for _, s := range []Summary{{Mean: 23.456789012345, CI: 0.125}, {Mean: -1, CI: math.NaN()}} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back Summary
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Mean != s.Mean || (back.CI != s.CI && !(math.IsNaN(back.CI) && math.IsNaN(s.CI))) {
			t.Errorf("%+v → %s → %+v", s, b, back)
		}
	}
}

// A trial of a diverged restoration (SWD NaN, an infinite consistency)
// survives JSON: the values that are not numbers come back as NaN, the rest
// exactly, where encoding/json alone refuses the file.
func TestTrialJSONNotANumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for _, swd := range []float64{math.NaN(), 1e3 * rng.Float64()} {
		tr := Trial{Task: "sr4", Method: sampler.PiGDM, Steps: 20,
			Point: restore.Preset{W: 2, Lambda: 0, Tau0: 0.2},
			PSNR:  Summary{Mean: 30 * rng.Float64(), CI: rng.Float64()}, SSIM: Summary{Mean: rng.Float64(), CI: math.NaN()},
			Consistency: Summary{Mean: math.Inf(1), CI: rng.Float64()}, HF: Summary{Mean: math.NaN(), CI: math.NaN()}, SWD: swd}
		b, err := json.Marshal(tr)
		if err != nil {
			t.Fatalf("marshal %+v: %v", tr, err)
		}
		var back Trial
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if back.Task != tr.Task || back.Method != tr.Method || back.Steps != tr.Steps || back.Point != tr.Point ||
			back.PSNR != tr.PSNR || !same(back.SSIM.CI, tr.SSIM.CI) || back.SSIM.Mean != tr.SSIM.Mean ||
			!math.IsNaN(back.Consistency.Mean) || back.Consistency.CI != tr.Consistency.CI ||
			!math.IsNaN(back.HF.Mean) || !same(back.SWD, tr.SWD) {
			t.Errorf("%+v → %s → %+v", tr, b, back)
		}
	}
}
