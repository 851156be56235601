package restore

import (
	"bytes"
	"strings"
	"testing"

	"conjure/sampler"
)

// Presets survive a write and read, Get picks the nearest swept step count
// (the smaller on a tie) and falls back to the paper's setting elsewhere.
func TestPresetsRoundTripAndNearest(t *testing.T) {
	p := Presets{}
	a, b := Preset{W: 3, Lambda: 0.25, Tau0: 0.6}, Preset{W: 7.5, Tau0: 0.2}
	p.Set(sampler.CPiGDM, Key(SR4), 5, a)
	p.Set(sampler.CPiGDM, Key(SR4), 15, b)
	var buf bytes.Buffer
	if _, err := p.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := ReadPresets(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n    int
		want Preset
	}{{1, a}, {5, a}, {9, a}, {10, a}, {11, b}, {15, b}, {40, b}} {
		if got := q.Get(sampler.CPiGDM, Key(SR4), c.n); got != c.want {
			t.Errorf("Get(cpigdm, sr4, %d) = %+v, want %+v", c.n, got, c.want)
		}
	}
	if got := q.Get(sampler.CPiGDM, KeyFor(SR4, 0.05), 5); got != a {
		t.Errorf("unswept noisy key: %+v, want its noiseless preset %+v", got, a)
	}
	q.Set(sampler.DPS, Key(SR4), 5, b)
	if got := q.Get(sampler.DPS, KeyFor(SR4, 0.05), 5); got != b {
		t.Errorf("unswept noisy key for DPS: %+v, want its noiseless preset %+v", got, b)
	}
	if got := q.Get(sampler.PiGDM, Key(SR4), 5); got != fallback {
		t.Errorf("unswept method: %+v, want the fallback %+v", got, fallback)
	}
	if got := q.Get(sampler.CPiGDM, Key(Gray), 5); got != fallback {
		t.Errorf("unswept task: %+v, want the fallback %+v", got, fallback)
	}
}

func TestReadPresetsRejectsBadFiles(t *testing.T) {
	for _, body := range []string{
		`{`,
		`{"nope": {"sr4": {"5": {"w": 1, "lambda": 0, "tau0": 0.4}}}}`,
		`{"cpigdm": {"sr8": {"5": {"w": 1, "lambda": 0, "tau0": 0.4}}}}`,
		`{"cpigdm": {"sr4": {"five": {"w": 1, "lambda": 0, "tau0": 0.4}}}}`,
		`{"cpigdm": {"sr4": {"0": {"w": 1, "lambda": 0, "tau0": 0.4}}}}`,
		`{"cpigdm": {"sr4+noise": {"5": {"w": 1, "lambda": 0, "tau0": 0.4}}}}`,
	} {
		if _, err := ReadPresets(strings.NewReader(body)); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}

// The shipped presets are valid sampler settings for every task, method and
// step count they name.
func TestShippedPresetsValidate(t *testing.T) {
	if shipped[PriorFace] == nil {
		t.Fatalf("presets.json has no %s presets", PriorFace)
	}
	for prior, presets := range shipped {
		for m, tasks := range presets {
			for task, steps := range tasks {
				for n := range steps {
					o := sampler.DefaultOptions(m)
					p := presets.Get(m, task, n)
					o.W, o.Lambda, o.Tau0 = p.W, p.Lambda, p.Tau0
					if _, err := o.Validate(); err != nil {
						t.Errorf("%s %s %s %d steps: %v", prior, m, task, n, err)
					}
				}
			}
		}
	}
}

// A library survives a write and read; Merge overwrites only what it
// covers; unknown priors are refused.
func TestLibrary(t *testing.T) {
	a, b := Preset{W: 3, Lambda: 0.25, Tau0: 0.6}, Preset{W: 7.5, Tau0: 0.2}
	l := Library{}
	l.Merge(PriorPhoto, Presets{sampler.CPiGDM: {Key(SR2): {5: a, 10: a}}})
	l.Merge(PriorPhoto, Presets{sampler.CPiGDM: {Key(SR2): {10: b}}})
	var buf bytes.Buffer
	if _, err := l.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadLibrary(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if p := got[PriorPhoto].Get(sampler.CPiGDM, Key(SR2), 5); p != a {
		t.Errorf("5 steps: %+v, want %+v", p, a)
	}
	if p := got[PriorPhoto].Get(sampler.CPiGDM, Key(SR2), 10); p != b {
		t.Errorf("10 steps: %+v, want %+v", p, b)
	}
	if _, err := ReadLibrary(strings.NewReader(`{"faces": {}}`)); err == nil {
		t.Error("accepted an unknown prior")
	}
}
