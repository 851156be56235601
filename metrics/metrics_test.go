package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPSNRKnownNoise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ref := make([]float64, 3*32*32)
	x := make([]float64, len(ref))
	var se float64
	for i := range ref {
		ref[i] = r.Float64() - 0.5
		d := 0.1 * (r.Float64() - 0.5)
		x[i] = ref[i] + d
		se += (d / 2) * (d / 2) // [−1, 1] → [0, 1] halves differences
	}
	want := 10 * math.Log10(float64(len(x))/se)
	if got := PSNR(x, ref); math.Abs(got-want) > 1e-9 {
		t.Errorf("PSNR = %v, want %v", got, want)
	}
}

func TestSSIMProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const c, h, w = 3, 23, 17
	ref := make([]float64, c*h*w)
	for i := range ref {
		ref[i] = r.Float64()*1.6 - 0.8
	}
	if got := SSIM(ref, ref, c, h, w); math.Abs(got-1) > 1e-12 {
		t.Errorf("SSIM(x, x) = %v, want 1", got)
	}
	noisy := make([]float64, len(ref))
	noisier := make([]float64, len(ref))
	for i := range ref {
		n := r.NormFloat64()
		noisy[i] = ref[i] + 0.05*n
		noisier[i] = ref[i] + 0.3*n
	}
	a, b := SSIM(noisy, ref, c, h, w), SSIM(noisier, ref, c, h, w)
	if !(1 > a && a > b && b > 0) {
		t.Errorf("SSIM should fall with noise: %v (σ=0.05), %v (σ=0.3)", a, b)
	}
	// A constant shift of both means only: the luminance term alone.
	shift := make([]float64, len(ref))
	flat := make([]float64, len(ref))
	for i := range shift {
		shift[i] = 0.2
		flat[i] = -0.2
	}
	mu1, mu2 := 0.6, 0.4
	want := (2*mu1*mu2 + 1e-4) / (mu1*mu1 + mu2*mu2 + 1e-4)
	if got := SSIM(shift, flat, c, h, w); math.Abs(got-want) > 1e-12 {
		t.Errorf("SSIM of two flat images = %v, want %v", got, want)
	}
}

func TestConsistency(t *testing.T) {
	if got := Consistency([]float64{3, 4}, []float64{3, 1}); math.Abs(got-0.6) > 1e-15 {
		t.Errorf("Consistency = %v, want 0.6", got)
	}
}
