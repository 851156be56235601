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

	"conjure/sampler"
)

// Preset holds the default sampler settings of a method on a task at one
// step count.
type Preset struct {
	W      float64 `json:"w"`
	Lambda float64 `json:"lambda"`
	Tau0   float64 `json:"tau0"`
}

// Presets maps method → task → step count → Preset. Step counts are the
// sweep's; a run with another count uses the nearest one.
type Presets map[sampler.Method]map[Task]map[int]Preset

// presetsFile is written by `conjure sweep` (docs/EVALUATION.md says how
// it was run and why these values won).
//
//go:embed presets.json
var presetsFile []byte

// shipped are the presets in presetsFile; a malformed file fails every
// test of this package, so it never ships.
var shipped = func() Presets {
	p, err := ReadPresets(bytes.NewReader(presetsFile))
	if err != nil {
		panic(fmt.Sprintf("restore: embedded presets.json: %v", err))
	}
	return p
}()

// fallback is the paper's only documented setting (w = 15, λ = 0, τ₀ = 0.4;
// ALGORITHM.md §3.7), for a method and task the sweep did not cover.
var fallback = Preset{W: 15, Lambda: 0, Tau0: 0.4}

// presetsJSON is the file layout: step counts are object keys, so strings.
type presetsJSON map[sampler.Method]map[Task]map[string]Preset

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
			if _, err := ParseTask(string(t)); err != nil {
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
		raw[m] = map[Task]map[string]Preset{}
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

// Set records v as the preset of method m on task t at n steps.
func (p Presets) Set(m sampler.Method, t Task, n int, v Preset) {
	if p[m] == nil {
		p[m] = map[Task]map[int]Preset{}
	}
	if p[m][t] == nil {
		p[m][t] = map[int]Preset{}
	}
	p[m][t][n] = v
}

// Get returns the preset of method m on task t for n steps: the one swept
// at the nearest step count (the smaller on a tie), or the paper's setting
// when the sweep did not cover m and t.
func (p Presets) Get(m sampler.Method, t Task, n int) Preset {
	steps := p[m][t]
	if len(steps) == 0 {
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

// Options returns the sampler options for task t with method m and n steps,
// from the shipped presets.
func Options(t Task, m sampler.Method, n int) sampler.Options {
	p := shipped.Get(m, t, n)
	o := sampler.DefaultOptions(m)
	o.Steps, o.W, o.Lambda, o.Tau0 = n, p.W, p.Lambda, p.Tau0
	return o
}

// PresetFor returns the shipped preset of method m on task t at n steps.
func PresetFor(m sampler.Method, t Task, n int) Preset { return shipped.Get(m, t, n) }
