package restore

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"conjure/model"
	"conjure/sampler"
)

// Preset holds the default sampler settings of a method on a task at one
// step count.
type Preset struct {
	W      float64 `json:"w"`
	Lambda float64 `json:"lambda"`
	Tau0   float64 `json:"tau0"`
}

// Presets maps method → key → step count → Preset. Step counts are the
// sweep's; a run with another count uses the nearest one.
type Presets map[sampler.Method]map[Key]map[int]Preset

// Key names the situation a preset is for: a task, with the suffix "+noisy"
// when its measurement carries noise: noisy C-ΠGDM (sampler.NoisyFold)
// weighs the measurement by its noise, so its best w and τ₀ differ.
type Key string

// noisy is the suffix of a Key for a measurement with noise.
const noisy = "+noisy"

// KeyFor returns the Key of task t with measurement noise sigmaY.
func KeyFor(t Task, sigmaY float64) Key {
	if sigmaY > 0 {
		return Key(t) + noisy
	}
	return Key(t)
}

// parseKey checks that k is a task, optionally with the noisy suffix.
func parseKey(k Key) error {
	_, err := ParseTask(strings.TrimSuffix(string(k), noisy))
	return err
}

// The priors presets are kept for: each model's best settings differ.
const (
	PriorFace  = "face64" // a framed model of aligned faces (with attention)
	PriorPhoto = "photo"  // a local natural-image prior run on tiles
)

// Prior returns the presets family of a network: a local one (no
// attention) is run on tiles of whole photos and uses the photo presets; one
// with attention is framed at its resolution like the face model.
func Prior(c model.Config) string {
	if c.Local() {
		return PriorPhoto
	}
	return PriorFace
}

// Library maps a prior's name to its presets: the layout of presets.json.
type Library map[string]Presets

// ReadLibrary parses a presets file: prior name → method → key → steps.
func ReadLibrary(r io.Reader) (Library, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("read presets: %w", err)
	}
	l := Library{}
	for name, body := range raw {
		if name != PriorFace && name != PriorPhoto {
			return nil, fmt.Errorf("read presets: unknown prior %q (want %q or %q)", name, PriorFace, PriorPhoto)
		}
		p, err := ReadPresets(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		l[name] = p
	}
	return l, nil
}

// WriteTo writes l as indented JSON in a stable order.
func (l Library) WriteTo(w io.Writer) (int64, error) {
	raw := map[string]json.RawMessage{}
	for name, p := range l {
		var b bytes.Buffer
		if _, err := p.WriteTo(&b); err != nil {
			return 0, err
		}
		raw[name] = b.Bytes()
	}
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// Merge overwrites the entries of l[prior] that p covers and keeps the
// others.
func (l Library) Merge(prior string, p Presets) {
	if l[prior] == nil {
		l[prior] = Presets{}
	}
	for m, tasks := range p {
		for t, steps := range tasks {
			for n, v := range steps {
				l[prior].Set(m, t, n, v)
			}
		}
	}
}

// presetsFile is written by `conjure sweep` (docs/EVALUATION.md says how
// it was run and why these values won).
//
//go:embed presets.json
var presetsFile []byte

// shipped are the presets in presetsFile; a malformed file fails every
// test of this package, so it never ships.
var shipped = func() Library {
	l, err := ReadLibrary(bytes.NewReader(presetsFile))
	if err != nil {
		panic(fmt.Sprintf("restore: embedded presets.json: %v", err))
	}
	return l
}()

// fallback is the paper's only documented setting (w = 15, λ = 0, τ₀ = 0.4;
// ALGORITHM.md §3.7), for a method and task the sweep did not cover.
var fallback = Preset{W: 15, Lambda: 0, Tau0: 0.4}

// presetsJSON is the file layout: step counts are object keys, so strings.
type presetsJSON map[sampler.Method]map[Key]map[string]Preset

// ReadPresets parses a presets file and checks every method, task and step
// count in it.
func ReadPresets(r io.Reader) (Presets, error) {
	var raw presetsJSON
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("read presets: %w", err)
	}
	p := Presets{}
	for m, tasks := range raw {
		if _, err := sampler.Lookup(m); err != nil {
			return nil, fmt.Errorf("read presets: %w", err)
		}
		for t, steps := range tasks {
			if err := parseKey(t); err != nil {
				return nil, fmt.Errorf("read presets: %w", err)
			}
			for s, v := range steps {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 {
					return nil, fmt.Errorf("read presets: %s %s: step count %q is not a positive integer", m, t, s)
				}
				p.Set(m, t, n, v)
			}
		}
	}
	return p, nil
}

// WriteTo writes p as indented JSON in a stable order.
func (p Presets) WriteTo(w io.Writer) (int64, error) {
	raw := presetsJSON{}
	for m, tasks := range p {
		raw[m] = map[Key]map[string]Preset{}
		for t, steps := range tasks {
			raw[m][t] = map[string]Preset{}
			for n, v := range steps {
				raw[m][t][strconv.Itoa(n)] = v
			}
		}
	}
	b, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// Set records v as the preset of method m for key t at n steps.
func (p Presets) Set(m sampler.Method, t Key, n int, v Preset) {
	if p[m] == nil {
		p[m] = map[Key]map[int]Preset{}
	}
	if p[m][t] == nil {
		p[m][t] = map[int]Preset{}
	}
	p[m][t][n] = v
}

// Get returns the preset of method m for key t and n steps: the one swept
// at the nearest step count (the smaller on a tie). When the sweep did not
// cover m and t: for a noisy key, the task's noiseless preset (every
// sampler's noisy step becomes its noiseless one as σ_y → 0); otherwise
// the paper's setting.
func (p Presets) Get(m sampler.Method, t Key, n int) Preset {
	steps := p[m][t]
	if len(steps) == 0 {
		if base, isNoisy := strings.CutSuffix(string(t), noisy); isNoisy {
			return p.Get(m, Key(base), n)
		}
		return fallback
	}
	keys := slices.Sorted(maps.Keys(steps))
	best := keys[0]
	for _, k := range keys[1:] {
		if abs(k-n) < abs(best-n) {
			best = k
		}
	}
	return steps[best]
}

func abs(n int) int { return max(n, -n) }

// Options returns the sampler options for task t with method m, n steps and
// measurement noise sigmaY, from the shipped presets of the prior.
func Options(prior string, t Task, m sampler.Method, n int, sigmaY float64) sampler.Options {
	p := shipped[prior].Get(m, KeyFor(t, sigmaY), n)
	o := sampler.DefaultOptions(m)
	o.Steps, o.W, o.Lambda, o.Tau0 = n, p.W, p.Lambda, p.Tau0
	return o
}

// PresetFor returns the prior's shipped preset of method m on task t
// (noiseless) at n steps.
func PresetFor(prior string, m sampler.Method, t Task, n int) Preset {
	return shipped[prior].Get(m, Key(t), n)
}
