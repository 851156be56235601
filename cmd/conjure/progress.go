package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"conjure/sampler"
)

// tileProgress draws a progress bar over steps × tiles on stderr for a
// tiled restoration, once it has run for a second (short runs stay quiet),
// at most ten times a second.
type tileProgress struct {
	w           io.Writer
	start, last time.Time
	drawn       bool
	steps, step int // steps in all, steps done
	passes      int // network passes over the tiles in this step so far
	perStep     int // passes a step takes (measured on the first step)
	done, tiles int // tiles done in the current pass, and its total
}

func newTileProgress(w io.Writer, steps int) *tileProgress {
	// Most samplers evaluate ε and its VJP: two passes a step until the first
	// step has shown how many it takes.
	return &tileProgress{w: w, start: time.Now(), steps: steps, perStep: 2}
}

// Tiles is the tiled network's progress callback.
func (p *tileProgress) Tiles(done, total int) {
	p.done, p.tiles = done, total
	if done == total {
		p.passes++
	}
	p.draw(false)
}

// Step is the sampler's callback.
func (p *tileProgress) Step(s sampler.Step) {
	if s.I == 1 {
		p.perStep = max(1, p.passes)
	}
	p.step, p.passes, p.done = s.I, 0, 0
	p.draw(s.I == s.N)
}

func (p *tileProgress) draw(final bool) {
	now := time.Now()
	if !final && (now.Sub(p.start) < time.Second || now.Sub(p.last) < 100*time.Millisecond) {
		return
	}
	if final && !p.drawn {
		return
	}
	p.last, p.drawn = now, true
	within := 0.0
	if p.tiles > 0 {
		within = (float64(p.passes) + float64(p.done%max(p.tiles, 1))/float64(p.tiles)) / float64(p.perStep)
	}
	frac := (float64(p.step) + min(within, 0.999)) / float64(p.steps)
	if final {
		frac = 1
	}
	n := int(24 * frac)
	el := now.Sub(p.start).Round(time.Second)
	fmt.Fprintf(p.w, "\rrestoring %3.0f%% [%s%s] step %d/%d, %d tiles, %s ", 100*frac,
		strings.Repeat("#", n), strings.Repeat(".", 24-n), min(p.step+1, p.steps), p.steps, p.tiles, el)
	if final {
		fmt.Fprintln(p.w)
	}
}
