package cpu

import (
	"math/rand/v2"
	"testing"

	"conjure/operator"
	"conjure/sampler"
)

type identityNet struct{ d int }

func (n identityNet) Dim() int                        { return n.d }
func (n identityNet) Eps(dst, x []float64, _ float64) { copy(dst, x) }
func (n identityNet) VJP(dst, v []float64)            { copy(dst, v) }

func randVec(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

func TestCombineAliasingAndDot(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := New(identityNet{5})
	a, c := randVec(r, 5), randVec(r, 5)
	va, vc := b.NewVec(5), b.NewVec(5)
	b.Write(va, a)
	b.Write(vc, c)
	// dst aliases the first term: every element is read before it is written.
	b.Combine(va, sampler.Term{C: 2, V: va}, sampler.Term{C: -0.5, V: vc})
	got := make([]float64, 5)
	b.Read(got, va)
	var dot float64
	for i := range got {
		if want := 2*a[i] - 0.5*c[i]; got[i] != want {
			t.Errorf("combine[%d] = %v, want %v", i, got[i], want)
		}
		dot += got[i] * c[i]
	}
	if d := b.Dot(va, vc); d != dot {
		t.Errorf("dot = %v, want %v", d, dot)
	}
}

func TestApplyMatchesOperator(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	op, err := operator.NewBoxSR(2, 4, 6, 2)
	if err != nil {
		t.Fatal(err)
	}
	b := New(identityNet{op.In()})
	x := randVec(r, op.In())
	vx, vy := b.NewVec(op.In()), b.NewVec(op.Out())
	b.Write(vx, x)
	b.Apply(op, operator.Forward, vy, vx)
	want := make([]float64, op.Out())
	op.Forward(want, x)
	got := make([]float64, op.Out())
	b.Read(got, vy)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("H x [%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestForeignVectorPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a vector of another backend was accepted")
		}
	}()
	b := New(identityNet{1})
	b.Write(foreign{}, []float64{1})
}

type foreign struct{}

func (foreign) Len() int { return 1 }
