package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"conjure/operator"
	"conjure/restore"
)

// Task is an evaluation task: a restoration task with its mask rule and
// measurement noise.
type Task struct {
	Name   string
	Base   restore.Task
	SigmaY float64
	// mask returns the h×w keep-mask for image i (inpainting only).
	mask func(h, w, i int, seed uint64) []bool
}

// Tasks lists the evaluation tasks in report order.
var Tasks = []Task{
	{Name: "sr4", Base: restore.SR4},
	{Name: "sr4box", Base: restore.SR4Box},
	{Name: "inpaint-box", Base: restore.Inpaint, mask: func(h, w, _ int, _ uint64) []bool { return restore.CentreHole(h, w) }},
	{Name: "inpaint-free", Base: restore.Inpaint, mask: FreeFormMask},
	{Name: "inpaint-thin", Base: restore.Inpaint, mask: func(h, w, i int, seed uint64) []bool { return StrokeMask(h, w, i, seed, ThinStroke, 6) }},
	{Name: "inpaint-thick", Base: restore.Inpaint, mask: func(h, w, i int, seed uint64) []bool { return StrokeMask(h, w, i, seed, ThickStroke, 4) }},
	{Name: "deblur", Base: restore.Deblur},
	{Name: "deblur-s0.01", Base: restore.Deblur, SigmaY: 0.01},
	{Name: "deblur-s0.02", Base: restore.Deblur, SigmaY: 0.02},
	{Name: "gray", Base: restore.Gray},
	{Name: "sr4-noisy", Base: restore.SR4, SigmaY: 0.05},
	{Name: "sr2", Base: restore.SR2},
	{Name: "denoise", Base: restore.Denoise, SigmaY: restore.DenoiseSigma},
}

// LookupTask returns the evaluation task called name.
func LookupTask(name string) (Task, error) {
	i := slices.IndexFunc(Tasks, func(t Task) bool { return t.Name == name })
	if i < 0 {
		names := make([]string, len(Tasks))
		for k, t := range Tasks {
			names[k] = t.Name
		}
		return Task{}, fmt.Errorf("unknown task %q (want one of %v)", name, names)
	}
	return Tasks[i], nil
}

// Operator returns the task's degradation for image i.
func (t Task) Operator(res, i int, seed uint64) (operator.Operator, []bool, error) {
	var keep []bool
	if t.mask != nil {
		keep = t.mask(res, res, i, seed)
	}
	op, err := restore.Operator(t.Base, res, keep)
	return op, keep, err
}

// FreeFormMask returns a deterministic free-form h×w keep-mask for image i:
// thick random strokes (a few segments of a random walk each, round
// brushes, sized by the shorter side) drawn until they cover 10–30% of the
// image, the target drawn uniformly from that range.
func FreeFormMask(h, w, i int, seed uint64) []bool {
	r := rand.New(rand.NewPCG(seed, uint64(i)+0x6d61736b))
	target := int((0.10 + 0.18*r.Float64()) * float64(h*w)) // the last disc may overshoot by ≤ 2%
	keep := make([]bool, h*w)
	for k := range keep {
		keep[k] = true
	}
	side := float64(min(h, w))
	holes := 0
	for holes < target {
		x, y := r.Float64()*float64(w), r.Float64()*float64(h)
		radius := side * (0.03 + 0.05*r.Float64())
		angle := r.Float64() * 2 * math.Pi
		for range 4 + r.IntN(4) {
			angle += (r.Float64() - 0.5) * 1.5
			length := side * (0.1 + 0.2*r.Float64())
			for s := 0.0; s <= length && holes < target; s += radius / 2 {
				cx, cy := x+s*math.Cos(angle), y+s*math.Sin(angle)
				holes += paint(keep, h, w, cx, cy, radius)
			}
			x, y = x+length*math.Cos(angle), y+length*math.Sin(angle)
			x, y = math.Mod(x+float64(w), float64(w)), math.Mod(y+float64(h), float64(h))
		}
	}
	return keep
}

// paint clears a disc of keep and returns how many pixels it newly cleared.
func paint(keep []bool, h, w int, cx, cy, radius float64) int {
	n := 0
	for i := max(0, int(cy-radius)); i <= min(h-1, int(cy+radius)); i++ {
		for j := max(0, int(cx-radius)); j <= min(w-1, int(cx+radius)); j++ {
			dx, dy := float64(j)+0.5-cx, float64(i)+0.5-cy
			if dx*dx+dy*dy <= radius*radius && keep[i*w+j] {
				keep[i*w+j] = false
				n++
			}
		}
	}
	return n
}

// Brush widths of the stroke inpainting tasks, in pixels: a scratch, and
// a stroke painted over an object.
const (
	ThinStroke  = 5
	ThickStroke = 17
)

// StrokeMask returns a deterministic h×w keep-mask for image i with n
// strokes of a round brush width pixels across: each a random walk of 3–5
// straight segments, each 15–35% of the shorter side long, as a person
// paints over scratches (thin) or over something to remove (thick).
func StrokeMask(h, w, i int, seed uint64, width float64, n int) []bool {
	r := rand.New(rand.NewPCG(seed, uint64(i)+0x7374726b+uint64(width)<<32))
	keep := make([]bool, h*w)
	for k := range keep {
		keep[k] = true
	}
	side := float64(min(h, w))
	radius := width / 2
	step := max(radius/2, 0.5)
	for range n {
		x, y := r.Float64()*float64(w), r.Float64()*float64(h)
		angle := r.Float64() * 2 * math.Pi
		for range 3 + r.IntN(3) {
			angle += (r.Float64() - 0.5) * 1.5
			length := side * (0.15 + 0.2*r.Float64())
			for s := 0.0; s <= length; s += step {
				paint(keep, h, w, x+s*math.Cos(angle), y+s*math.Sin(angle), radius)
			}
			x, y = x+length*math.Cos(angle), y+length*math.Sin(angle)
		}
	}
	return keep
}
