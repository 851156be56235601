package engine

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"conjure/imaging"
	"conjure/models"
	"conjure/restore"
	"conjure/tile"
)

// threadPool is a Pool whose workers are TileServers in this process, each
// run by tile.Net's goroutine for its worker: what the page's Web Workers
// do, without the messages.
type threadPool struct {
	servers []*TileServer
	keep    int
}

func newThreadPool(t *testing.T, workers, keep int) *threadPool {
	t.Helper()
	p := &threadPool{keep: keep}
	for range workers {
		s, err := NewTileServer(shipped(models.Photo), keep)
		if err != nil {
			t.Fatal(err)
		}
		p.servers = append(p.servers, s)
	}
	return p
}

func (p *threadPool) Workers() int { return len(p.servers) }
func (p *threadPool) Keep() int    { return p.keep }
func (p *threadPool) Err() error   { return nil }

func (p *threadPool) Tiles(n int) ([]tile.Network, error) {
	for _, s := range p.servers {
		s.Reset()
	}
	nets := make([]tile.Network, n)
	for k := range nets {
		nets[k] = servedTile{p.servers[k%len(p.servers)], k}
	}
	return nets, nil
}

// servedTile is tile k of a restore, on its worker's TileServer.
type servedTile struct {
	s    *TileServer
	slot int
}

func (n servedTile) Dim() int { return n.s.Dim() }

func (n servedTile) Eps(dst, x []float64, tau float64) {
	out, err := n.s.Eps(n.slot, x, tau)
	if err != nil {
		panic(err)
	}
	copy(dst, out)
}

func (n servedTile) VJP(dst, v []float64) {
	out, err := n.s.VJP(n.slot, v)
	if err != nil {
		panic(err)
	}
	copy(dst, out)
}

// TestPoolMatchesCLIPath restores a 40×36 photo 2× (2×2 tiles) on pools of
// one and three workers, keeping all or one of each worker's tiles, twice
// on each (the second restore reuses the servers), and checks every result
// equals the command line's exactly, with progress reaching its total.
func TestPoolMatchesCLIPath(t *testing.T) {
	src := gradient(40, 36)
	const steps, seed = 2, 9
	want := reference(t, restore.Photo{Task: restore.SR2, Input: imaging.Planar(src), H: 36, W: 40, Work: restore.DefaultWork}, steps, seed)
	for _, c := range []struct{ workers, keep int }{{1, 4}, {3, 2}, {3, 0}, {2, 1}} {
		e := cpuEngine(t, models.Photo)
		e.UsePool(newThreadPool(t, c.workers, c.keep))
		if e.Threads() != c.workers {
			t.Errorf("%d workers: Threads() = %d", c.workers, e.Threads())
		}
		for run := range 2 {
			var p progressLog
			got, err := e.Restore(Request{Task: "sr2", Pixels: src.Pix, Width: 40, Height: 36, Steps: steps, Method: "cpigdm", Seed: seed}, p.add, nil)
			if err != nil {
				t.Fatal(err)
			}
			p.check(t, 4*steps)
			if !bytes.Equal(got.Pixels, want.Pix) {
				t.Errorf("%d workers keeping %d, restore %d: result differs from restore.RunPhoto", c.workers, c.keep, run+1)
			}
		}
	}
}

// TestPoolPlan checks the estimate divides the tiles among the workers:
// four workers keeping every tile take a quarter of one thread's time.
func TestPoolPlan(t *testing.T) {
	e := cpuEngine(t, models.Photo)
	r := Request{Task: "sr4", Width: 64, Height: 64, Steps: 5, Method: "cpigdm"}
	one, err := e.Plan(r)
	if err != nil {
		t.Fatal(err)
	}
	e.UsePool(newThreadPool(t, 4, one.Tiles))
	four, err := e.Plan(r)
	if err != nil {
		t.Fatal(err)
	}
	// One thread keeps 4 tiles, so it recomputes forward passes: a step
	// costs 2 Eps and a VJP a tile, against 1 and 1 in the pool.
	perOne := 2*e.cost.eps + e.cost.vjp
	perFour := e.cost.eps + e.cost.vjp
	wantRatio := float64(perFour) * float64((one.Tiles+3)/4) / (float64(perOne) * float64(one.Tiles))
	if got := four.Seconds / one.Seconds; got < 0.99*wantRatio || got > 1.01*wantRatio {
		t.Errorf("%d tiles: 4 workers' estimate / one thread's = %.4f, want %.4f", one.Tiles, got, wantRatio)
	}
}

// TestTileServer checks a worker's tiles against the model run directly:
// kept and recomputed slots give the same ε and VJP, in any order of
// Eps and VJP calls, and bad calls are errors.
func TestTileServer(t *testing.T) {
	s, err := NewTileServer(shipped(models.Photo), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := cpuEngine(t, models.Photo).m
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func() []float64 {
		v := make([]float64, s.Dim())
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	xs, vs, taus := [][]float64{vec(), vec(), vec()}, [][]float64{vec(), vec(), vec()}, []float64{0.1, 0.5, 0.9}
	for k := range xs { // slot 0 is kept, 1 and 2 share a network
		if _, err := s.Eps(k, xs[k], taus[k]); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []int{1, 0, 2, 1} { // 1 twice: recomputed after 2 took the shared network
		got, err := s.VJP(k, vs[k])
		if err != nil {
			t.Fatal(err)
		}
		r := m.NewRunner()
		eps, want := make([]float64, s.Dim()), make([]float64, s.Dim())
		r.Eps(eps, xs[k], taus[k])
		r.VJP(want, vs[k])
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("slot %d: VJP[%d] = %v, want %v (the model's own)", k, i, got[i], want[i])
			}
		}
	}
	s.Reset()
	if _, err := s.VJP(1, vs[1]); err == nil || !strings.Contains(err.Error(), "VJP before Eps") {
		t.Errorf("VJP after Reset = %v, want VJP before Eps", err)
	}
	if _, err := s.Eps(0, xs[0][:10], 0.5); err == nil {
		t.Error("Eps of 10 values: no error")
	}
	if _, err := NewTileServer(shipped(models.Face64), 1); err == nil {
		t.Error("NewTileServer(face model): no error")
	}
}
