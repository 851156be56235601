package gpu

import (
	"math/rand/v2"
	"testing"

	"conjure/cpu"
	"conjure/metrics"
	"conjure/model"
	"conjure/models"
	"conjure/restore"
	"conjure/sampler"
	"conjure/tile"
)

// tiled.wgsl's Params mirror, which TestParamsMirrorWGSL looks up.
// localConfig is a small attention-free U-Net, the photo prior's shape, at
// resolution res.
func localConfig(res int) model.Config {
	return model.Config{
		Resolution: res, InChannels: 3, Channels: 6, Mult: []int{1, 2}, ResBlocks: 1,
		AttnResolutions: []int{}, Groups: 2, Heads: 2, TimeScale: 1000, MidAttn: new(false),
	}
}

// newTiledPair returns the seeded random int8 local model of resolution
// res on an h×w grid of res-pixel tiles: package tile's CPU Net, and the
// TiledNet with a chunk of chunk tiles (0: all, rounded up to a multiple
// of batch) and a Net of batch tiles.
func newTiledPair(t *testing.T, res, h, w, chunk, batch int, seed uint64) (*tile.Net, *TiledNet) {
	t.Helper()
	f, err := model.NewRandom(localConfig(res), seed)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Quantize()
	g, err := tile.NewGrid(h, w, res, tile.DefaultOverlap(res))
	if err != nil {
		t.Fatal(err)
	}
	// One worker: the reference need not be fast, and the result does not
	// depend on it.
	want, err := tile.New(g, 3, func() tile.Network { return m.NewRunner() }, tile.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if chunk == 0 {
		chunk = (g.Tiles() + batch - 1) / batch * batch
	}
	got, err := newTiledNet(testDevice(t), m, g, chunk, batch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(got.Destroy)
	return want, got
}

// TestTiledMatchesTileNet compares the TiledNet's Eps and VJP with package
// tile's CPU Net at fresh random x and v, for two τ in turn: an odd-sized
// image of 2×3 tiles (one tile at a time; in batches of at most 4, so two
// of 3; in chunks of 4 tiles, one of them partial, in batches of 2; in
// batches of a chunk each, 4 tiles then 2),
// and one whose 20-pixel side is shorter than its 32-pixel tiles, so
// reflected positions feed the network and receive the VJP.
func TestTiledMatchesTileNet(t *testing.T) {
	for _, c := range []struct {
		name                    string
		res, h, w, chunk, batch int
		rowTiles, colTiles      int
	}{
		{"23x37", 16, 23, 37, 0, 1, 2, 3},
		{"23x37/batches", 16, 23, 37, 0, 4, 2, 3},
		{"23x37/chunks", 16, 23, 37, 4, 2, 2, 3},
		{"23x37/chunk-sized-batches", 16, 23, 37, 4, 4, 2, 3},
		{"20x45/reflected", 32, 20, 45, 0, 2, 1, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			want, got := newTiledPair(t, c.res, c.h, c.w, c.chunk, c.batch, 1)
			g := want.Grid()
			if len(g.Rows) != c.rowTiles || len(g.Cols) != c.colTiles {
				t.Fatalf("grid of %d×%d tiles, want %d×%d", len(g.Rows), len(g.Cols), c.rowTiles, c.colTiles)
			}
			var calls, last int
			got.Progress = func(done, total int) {
				if total != g.Tiles() || done < 1 || done > total {
					t.Errorf("Progress(%d, %d) with %d tiles", done, total, g.Tiles())
				}
				calls, last = calls+1, done
			}
			compareTiled(t, want, got, 2, 0.3, 0.9)
			// One call a batch of each pass: the chunks split into batches.
			chunk, batches := got.chunk, 0
			for first := 0; first < g.Tiles(); first += chunk {
				batches += (min(chunk, g.Tiles()-first) + c.batch - 1) / c.batch
			}
			if calls != 4*batches || last != g.Tiles() {
				t.Errorf("Progress called %d times, last with %d done; want %d calls (one a batch of each pass), last %d",
					calls, last, 4*batches, g.Tiles())
			}
		})
	}
}

// TestTiledMemory checks that activationFloats counts what a Net
// allocates per sample, for batches of local models and a model with
// attention, and prints what NewTiledNet allocates for the photo model on
// a 2048×2048 image.
func TestTiledMemory(t *testing.T) {
	d := testDevice(t)
	attn := localConfig(16)
	attn.AttnResolutions, attn.MidAttn = []int{8}, nil
	for _, c := range []struct {
		name  string
		cfg   model.Config
		batch int
	}{{"local", localConfig(16), 1}, {"local", localConfig(16), 3}, {"attention", attn, 1}} {
		f, err := model.NewRandom(c.cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewBatchNet(d, f.Quantize(), c.batch)
		if err != nil {
			t.Fatal(err)
		}
		total, largest := activationFloats(c.cfg)
		got, want := n.allocated-n.tbias.n, c.batch*total
		if got != want {
			t.Errorf("%s, batch %d: the Net allocates %d activation values, activationFloats·batch = %d", c.name, c.batch, got, want)
		}
		if n.largest != c.batch*largest {
			t.Errorf("%s, batch %d: the Net's largest buffer holds %d values, activationFloats's largest·batch = %d", c.name, c.batch, n.largest, c.batch*largest)
		}
		n.Destroy()
	}
	if _, err := NewBatchNet(d, mustQuantized(t, attn), 2); err == nil {
		t.Error("NewBatchNet(attention model, batch 2) succeeded; want an error")
	}
	m, err := models.Shipped(models.Photo)
	if err != nil {
		t.Fatal(err)
	}
	g, err := tile.NewGrid(2048, 2048, m.Config().Resolution, tile.DefaultOverlap(m.Config().Resolution))
	if err != nil {
		t.Fatal(err)
	}
	tn, err := NewTiledNet(d, m, g)
	if err != nil {
		t.Fatal(err)
	}
	defer tn.Destroy()
	floats, largest := activationFloats(m.Config())
	per := 4 * floats
	if limit := d.limits.MaxStorageBufferBindingSize; uint64(4*largest*tn.NetBatch()) > limit {
		t.Errorf("batch of %d tiles: its largest activation, %d bytes, exceeds a binding's %d", tn.NetBatch(), 4*largest*tn.NetBatch(), limit)
	}
	if b := tn.NetBatch(); b < 1 || b*per > max(TileBatchBytes, per) {
		t.Errorf("batch of %d tiles of %d activation bytes each for a budget of %d", b, per, TileBatchBytes)
	}
	var total int
	for _, b := range append(tn.owned, tn.net.owned...) {
		total += int(b.size)
	}
	t.Logf("photo model, 2048×2048 (%d tiles): %.1f MB of activations a tile, batches of %d; %.0f MB allocated in all (%.0f MB the Net)",
		g.Tiles(), float64(per)/1e6, tn.NetBatch(), float64(total)/1e6, float64(4*tn.net.allocated)/1e6)
}

// mustQuantized returns a seeded random int8 model of config c.
func mustQuantized(t *testing.T, c model.Config) *model.Model {
	t.Helper()
	f, err := model.NewRandom(c, 2)
	if err != nil {
		t.Fatal(err)
	}
	return f.Quantize()
}

// compareTiled checks the TiledNet's Eps and VJP against package tile's.
func compareTiled(t *testing.T, want *tile.Net, got *TiledNet, seed uint64, taus ...float64) {
	t.Helper()
	if got.Dim() != want.Dim() {
		t.Fatalf("Dim %d, want %d", got.Dim(), want.Dim())
	}
	compareNetwork(t, got.d, want, got, got.Dim(), seed, taus...)
}

// TestTiledRestoration runs 2-step C-ΠGDM restorations of odd-sized
// tiled photos, ×2 bicubic super-resolution of a 16×19 photo (a 32×38
// image, 3×3 tiles, a separable operator) and inpainting of a 19×16 one
// (a grouped operator on a side exactly one tile long and one of two
// tiles), on the GPU Backend with a TiledNet and on the CPU with package
// tile's Net, and requires the outputs to agree to 50 dB PSNR on [0, 1].
func TestTiledRestoration(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, ph := range []restore.Photo{
		{Task: restore.SR2, H: 16, W: 19},
		{Task: restore.Inpaint, H: 19, W: 16, Keep: restore.CentreHole(19, 16)},
	} {
		t.Run(string(ph.Task), func(t *testing.T) {
			ph.Input = make([]float64, restore.Channels*ph.H*ph.W)
			for i := range ph.Input {
				ph.Input[i] = 2*rng.Float64() - 1
			}
			prob, err := ph.Problem()
			if err != nil {
				t.Fatal(err)
			}
			// Batches of at most 2: the 9 tiles of sr2 go in 1, 2, 2, 2, 2.
			want, got := newTiledPair(t, 16, prob.H, prob.W, 0, 2, 3)
			b := testBackend(t, got)
			// ErrUnsupportedOp here would mean the GPU cannot run the task.
			if err := b.Prepare(prob.Op); err != nil {
				t.Fatalf("Prepare(%T): %v", prob.Op, err)
			}
			o := sampler.DefaultOptions(sampler.CPiGDM)
			o.Steps = 2
			ref, err := restore.RunPhoto(cpu.New(want), prob, o, 9, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := restore.RunPhoto(b, prob, o, 9, nil)
			if err != nil {
				t.Fatal(err)
			}
			psnr := metrics.PSNR(out, ref)
			t.Logf("%T on %d×%d (%d tiles): GPU vs CPU %.1f dB PSNR, relative L2 difference %.3g",
				prob.Op, prob.W, prob.H, want.Grid().Tiles(), psnr, relErr(out, ref))
			if !(psnr >= 50) {
				t.Errorf("GPU and CPU restorations differ: %.1f dB PSNR, want ≥ 50", psnr)
			}
		})
	}
}
