package gpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sentinel fills the spare room after every buffer of a kernel test; a
// kernel that writes past its output (or into a source) changes it.
const sentinel = float32(-1234.5)

// pad is the spare room after each buffer, more than a workgroup so that
// an unguarded last workgroup would be caught.
const pad = 67

// kcase is one kernel test after ggml's test-backend-ops: the vector
// lengths of the inputs and output, what the GPU records, and the float64
// CPU reference.
type kcase struct {
	name string // subtest name: kernel/vars
	ins  []int  // input lengths
	out  int    // output length
	// alias ≥ 0 makes the output input number alias (its contents are the
	// input's, and it is checked as the output, not as a source).
	alias int
	tol   float64 // on relErr, float32 round-off plus conditioning
	gpu   func(b *Backend, dst *Buffer, ins []*Buffer)
	ref   func(dst []float64, ins [][]float64)
}

// run runs every case as a subtest: fresh seeded random inputs (the seed
// derived from the name), an output prefilled with sentinels, then checks
// for NaN/Inf, the relative error against the reference, and that the
// spare room of every buffer and every source is unchanged.
func run(t *testing.T, b *Backend, cases []kcase) {
	t.Helper()
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(ci)+1, hash(c.name)))
			ins := make([][]float64, len(c.ins))
			bufs := make([]*Buffer, len(c.ins))
			for i, n := range c.ins {
				ins[i] = randomVec(r, n)
				bufs[i] = newPadded(t, b.d, ins[i])
			}
			var dst *Buffer
			if c.alias >= 0 {
				dst = bufs[c.alias]
			} else {
				dst = newPadded(t, b.d, sentinels(c.out))
			}
			want := make([]float64, c.out)
			c.ref(want, ins)
			c.gpu(b, dst, bufs)

			got := readPadded(t, dst)
			for i, v := range got[:c.out] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("output[%d] = %v", i, v)
				}
			}
			checkTail(t, "output", got, c.out)
			if e := relErr(got[:c.out], want); !(e <= c.tol) {
				t.Errorf("relative error %.3g > %.3g", e, c.tol)
			}
			for i, buf := range bufs {
				if buf == dst {
					continue
				}
				v := readPadded(t, buf)
				checkTail(t, "input", v, len(ins[i]))
				for j, x := range ins[i] {
					if v[j] != float64(float32(x)) {
						t.Fatalf("input %d changed at %d: %v, was %v", i, j, v[j], x)
					}
				}
			}
		})
	}
}

// hash is FNV-1a of s, to seed each case from its name.
func hash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

func sentinels(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(sentinel)
	}
	return v
}

// newPadded returns a buffer holding v followed by pad sentinels, destroyed
// with the test.
func newPadded(t *testing.T, d *Device, v []float64) *Buffer {
	t.Helper()
	b, err := d.newBuffer(len(v), len(v)+pad)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Destroy() })
	if err := b.write(0, append(v[:len(v):len(v)], sentinels(pad)...)); err != nil {
		t.Fatal(err)
	}
	return b
}

// readPadded reads b with its spare room.
func readPadded(t *testing.T, b *Buffer) []float64 {
	t.Helper()
	v := make([]float64, b.n+pad)
	if err := b.read(v); err != nil {
		t.Fatal(err)
	}
	return v
}

func checkTail(t *testing.T, what string, v []float64, n int) {
	t.Helper()
	for i, x := range v[n:] {
		if x != float64(sentinel) {
			t.Fatalf("%s: out-of-bounds write at %d+%d: %v", what, n, i, x)
		}
	}
}
