package engine

import (
	"conjure/imaging"
	"conjure/restore"
	"conjure/sampler"
)

// Preview is the restoration as it stands after a step: the task's finish
// applied to the step's Tweedie estimate x̂₀, as RGBA pixels the size of
// the result. The last preview of a restore, Step == Steps, is the result
// itself.
type Preview struct {
	Pixels        []byte // RGBA, Width×Height
	Width, Height int
	Step, Steps   int
}

// previews turns the sampler's steps into Previews for show. Its nil value
// shows nothing and costs nothing: no read-back, no conversion.
type previews struct {
	show   func(Preview)
	finish func(x []float64) []float64 // the sampler's image to the output's planar image
	h, w   int                         // the output's size
	buf    []float64
}

// newPreviews returns the previews of a restore whose output is h×w, made
// by finish from the sampler's image; nil when show is nil.
func newPreviews(show func(Preview), finish func([]float64) []float64, h, w int) *previews {
	if show == nil {
		return nil
	}
	return &previews{show: show, finish: finish, h: h, w: w}
}

// step shows step s's x̂₀, read from b, for every step but the last: the
// last one's preview is the result (done).
func (p *previews) step(b sampler.Backend, s sampler.Step) {
	if p == nil || s.I >= s.N || s.X0 == nil {
		return
	}
	if len(p.buf) != s.X0.Len() {
		p.buf = make([]float64, s.X0.Len())
	}
	b.Read(p.buf, s.X0)
	img, err := imaging.Image(p.finish(p.buf), restore.Channels, p.h, p.w)
	if err != nil {
		return // the result's own conversion reports the same error
	}
	p.show(Preview{Pixels: img.Pix, Width: p.w, Height: p.h, Step: s.I, Steps: s.N})
}

// done shows the result as the last preview.
func (p *previews) done(r Result, steps int) {
	if p == nil {
		return
	}
	p.show(Preview{Pixels: r.Pixels, Width: r.Width, Height: r.Height, Step: steps, Steps: steps})
}
