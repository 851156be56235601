package gpu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"conjure/operator"
	"conjure/sampler"
)

// awkward are vector lengths around the workgroup size and its multiples.
var awkward = []int{1, 63, 64, 65, 255, 256, 257, 1031}

func TestCombine(t *testing.T) {
	b := testBackend(t, nil)
	var cases []kcase
	for _, n := range awkward {
		for _, terms := range []int{0, 1, 3, maxTerms, 2*maxTerms + 1} {
			cs := randomVec(rand.New(rand.NewPCG(uint64(n), uint64(terms))), terms)
			ins := make([]int, terms)
			for i := range ins {
				ins[i] = n
			}
			cases = append(cases, kcase{
				name: fmt.Sprintf("combine/n=%d,terms=%d", n, terms), ins: ins, out: n, alias: -1, tol: 1e-6,
				gpu: func(b *Backend, dst *Buffer, vs []*Buffer) { b.Combine(dst, terms2(cs, vs)...) },
				ref: func(dst []float64, vs [][]float64) { combineRef(dst, cs, vs) },
			})
		}
		// dst aliases the second summand; in a chunked combination it
		// aliases a summand of the first chunk.
		for _, terms := range []int{3, 2*maxTerms + 1} {
			cs := randomVec(rand.New(rand.NewPCG(uint64(n), 99)), terms)
			ins := make([]int, terms)
			for i := range ins {
				ins[i] = n
			}
			cases = append(cases, kcase{
				name: fmt.Sprintf("combine/n=%d,terms=%d,alias=1", n, terms), ins: ins, out: n, alias: 1, tol: 1e-6,
				gpu: func(b *Backend, dst *Buffer, vs []*Buffer) { b.Combine(dst, terms2(cs, vs)...) },
				ref: func(dst []float64, vs [][]float64) { combineRef(dst, cs, vs) },
			})
		}
	}
	run(t, b, cases)
}

// TestDispatchFold lowers the per-dimension workgroup limit so that
// dispatches fold into 2-D grids with a partial last row.
func TestDispatchFold(t *testing.T) {
	b := testBackend(t, nil)
	limit := b.d.maxGroups
	b.d.maxGroups = 3
	defer func() { b.d.maxGroups = limit }()
	cs := []float64{0.5, -2}
	var cases []kcase
	for _, n := range []int{1, 193, 257, 513} {
		cases = append(cases, kcase{
			name: fmt.Sprintf("combine/n=%d,terms=2,maxgroups=3", n), ins: []int{n, n}, out: n, alias: -1, tol: 1e-6,
			gpu: func(b *Backend, dst *Buffer, vs []*Buffer) { b.Combine(dst, terms2(cs, vs)...) },
			ref: func(dst []float64, vs [][]float64) { combineRef(dst, cs, vs) },
		})
	}
	run(t, b, cases)
	if _, err := b.d.grid(64*9+1, 64); err == nil {
		t.Error("grid beyond maxgroups² did not fail")
	}
}

func terms2(cs []float64, vs []*Buffer) []sampler.Term {
	ts := make([]sampler.Term, len(cs))
	for i := range cs {
		ts[i] = sampler.Term{C: cs[i], V: vs[i]}
	}
	return ts
}

func combineRef(dst, cs []float64, vs [][]float64) {
	for i := range dst {
		var s float64
		for k, c := range cs {
			s += c * vs[k][i]
		}
		dst[i] = s
	}
}

// TestDot checks ⟨a, b⟩ and ⟨a, a⟩ against float64. Float32 products and
// sums err by about ε₃₂·log₂(n) relative to Σ|aᵢbᵢ|, which bounds the
// error even where the dot product itself cancels.
func TestDot(t *testing.T) {
	b := testBackend(t, nil)
	for _, n := range append(awkward, dotGroups*defaultWG+13) {
		for _, same := range []bool{false, true} {
			t.Run(fmt.Sprintf("dot/n=%d,same=%v", n, same), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(n), 7))
				x, y := randomVec(r, n), randomVec(r, n)
				if same {
					y = x
				}
				bx, by := newPadded(t, b.d, x), newPadded(t, b.d, y)
				if same {
					by = bx
				}
				got := b.Dot(bx, by)
				var want, scale float64
				for i := range x {
					want += x[i] * y[i]
					scale += math.Abs(x[i] * y[i])
				}
				if math.IsNaN(got) || math.Abs(got-want) > 1e-6*scale {
					t.Errorf("dot = %v, want %v (scale %v)", got, want, scale)
				}
			})
		}
	}
}

// testOperators returns operators of every family on awkward shapes: odd
// sides, H ≠ W, a single entry, more than a workgroup of measurements.
func testOperators(t *testing.T) map[string]operator.Operator {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 5))
	mask := func(n int) []bool {
		m := make([]bool, n)
		for i := range m {
			m[i] = r.IntN(3) > 0
		}
		m[0] = true
		return m
	}
	gauss, err := operator.GaussianKernel(1.2, 2)
	if err != nil {
		t.Fatal(err)
	}
	tall, wide := make([][]float64, 9), make([][]float64, 4)
	for i := range tall {
		tall[i] = randomVec(r, 5)
	}
	for i := range wide {
		wide[i] = randomVec(r, 11)
	}
	try := func(op operator.Operator, err error) operator.Operator {
		if err != nil {
			t.Fatal(err)
		}
		return op
	}
	ops := map[string]operator.Operator{}
	add := func(name string, op operator.Operator) { ops[name] = op }
	add("inpaint/c=3,h=5,w=7,shared", try(operator.NewInpaint(3, 5, 7, mask(35))))
	add("inpaint/c=3,h=9,w=29,planar", try(operator.NewInpaint(3, 9, 29, mask(3*9*29))))
	add("inpaint/c=1,h=1,w=1", try(operator.NewInpaint(1, 1, 1, []bool{true})))
	add("box/c=3,h=6,w=10,f=2", try(operator.NewBoxSR(3, 6, 10, 2)))
	add("box/c=3,h=16,w=24,f=4", try(operator.NewBoxSR(3, 16, 24, 4)))
	add("box/c=1,h=16,w=8,f=8", try(operator.NewBoxSR(1, 16, 8, 8)))
	add("gray/c=3,h=7,w=5", try(operator.NewGray(3, 7, 5)))
	add("gray/c=3,h=1,w=257", try(operator.NewGray(3, 1, 257)))
	add("bicubic/c=3,h=8,w=12,f=2", try(operator.NewBicubicSR(3, 8, 12, 2)))
	add("bicubic/c=1,h=16,w=24,f=4", try(operator.NewBicubicSR(1, 16, 24, 4)))
	add("blur/c=3,h=9,w=13,t=0.03", try(operator.NewBlur(3, 9, 13, gauss, operator.DefaultBlurThreshold)))
	add("blur/c=1,h=17,w=7,t=0", try(operator.NewBlur(1, 17, 7, gauss, 0)))
	add("dense/m=9,d=5", try(operator.NewDense(tall)))
	add("dense/m=4,d=11", try(operator.NewDense(wide)))
	add("dense/m=1,d=1", try(operator.NewDense([][]float64{{-0.7}})))
	return ops
}

var kinds = []operator.Kind{operator.Forward, operator.Adjoint, operator.Pinv, operator.Project}

// kindName is a map's name for subtest names, which -run can match.
func kindName(k operator.Kind) string {
	return [...]string{"fwd", "adj", "pinv", "proj"}[k]
}

// TestOperatorMaps checks every map, the noisy inverse and a general gain of every
// operator family against package operator in float64. On lavapipe the
// relative errors stay below 4e-7 (float32 inputs, factors and sums); the
// tolerance leaves room for the conditioning of pseudo-inverses, up to
// ~10³ for blur, on larger images.
func TestOperatorMaps(t *testing.T) {
	b := testBackend(t, nil)
	var cases []kcase
	for name, op := range testOperators(t) {
		for _, k := range kinds {
			src, dst := operator.Dims(op, k)
			cases = append(cases, kcase{
				name: fmt.Sprintf("%s,map=%s", name, kindName(k)), ins: []int{src}, out: dst, alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) { b.Apply(op, k, dst, in[0]) },
				ref: func(dst []float64, in [][]float64) { operator.Apply(op, k, dst, in[0]) },
			})
		}
		for _, v := range []struct{ r2, s2 float64 }{{0.7, 0.01}, {1.3, 0}, {0, 0.25}} {
			cases = append(cases, kcase{
				name: fmt.Sprintf("%s,map=noisy,r2=%g,s2=%g", name, v.r2, v.s2), ins: []int{op.Out()}, out: op.Out(), alias: -1, tol: 1e-5,
				gpu: func(b *Backend, dst *Buffer, in []*Buffer) { b.Gain(op, dst, in[0], operator.NoisyGain(v.r2, v.s2)) },
				ref: func(dst []float64, in [][]float64) { op.Gain(dst, in[0], operator.NoisyGain(v.r2, v.s2)) },
			})
		}
		// A gain that is not a noisy inverse, with g(0) ≠ 0, so that the
		// table indexing and the part outside span(U) both count.
		smooth := func(s2 float64) float64 { return 0.3 + math.Exp(-2*s2) + 0.7*s2 }
		cases = append(cases, kcase{
			name: name + ",map=gain", ins: []int{op.Out()}, out: op.Out(), alias: -1, tol: 1e-5,
			gpu: func(b *Backend, dst *Buffer, in []*Buffer) { b.Gain(op, dst, in[0], smooth) },
			ref: func(dst []float64, in [][]float64) { op.Gain(dst, in[0], smooth) },
		})
	}
	run(t, b, cases)
}

type notAnOperator struct{ operator.Operator }

func TestPrepareUnsupported(t *testing.T) {
	b := testBackend(t, nil)
	if err := b.Prepare(notAnOperator{}); !errors.Is(err, ErrUnsupportedOp) {
		t.Fatalf("Prepare = %v, want ErrUnsupportedOp", err)
	}
}

// TestWriteAfterRecordedWork checks that a host write is ordered after the
// work recorded before it, although the queue would run it first.
func TestWriteAfterRecordedWork(t *testing.T) {
	b := testBackend(t, nil)
	x, y := b.NewVec(3).(*Buffer), b.NewVec(3).(*Buffer)
	t.Cleanup(func() { x.Destroy(); y.Destroy() })
	b.Write(x, []float64{1, 2, 3})
	b.Combine(y, sampler.Term{C: 2, V: x})
	b.Write(x, []float64{7, 8, 9})
	got := make([]float64, 3)
	b.Read(got, y)
	if got[0] != 2 || got[1] != 4 || got[2] != 6 {
		t.Fatalf("y = %v, want [2 4 6]", got)
	}
}
