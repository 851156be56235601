package gpu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
)

var (
	openOnce  sync.Once
	shared    *Device
	sharedErr error
)

// TestMain closes the device the tests share.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Close()
	}
	os.Exit(code)
}

// testDevice returns the device the tests share. Without an adapter it
// skips the test with the reason, except under CI=true, where lavapipe is
// installed and a missing adapter is a failure.
func testDevice(t testing.TB) *Device {
	t.Helper()
	openOnce.Do(func() {
		shared, sharedErr = Open()
		if sharedErr == nil {
			fmt.Fprintf(os.Stderr, "gpu tests on %s\n", shared.Name())
		}
	})
	switch {
	case sharedErr == nil:
		return shared
	case errors.Is(sharedErr, ErrNoAdapter) && os.Getenv("CI") != "true":
		t.Skipf("SKIP: no WebGPU adapter (%v); install mesa-vulkan-drivers for lavapipe", sharedErr)
	}
	t.Fatalf("open device: %v", sharedErr)
	return nil
}

// testBackend returns a Backend on the shared device with net as network.
func testBackend(t *testing.T, net Network) *Backend {
	t.Helper()
	b, err := NewBackend(testDevice(t), net)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for op := range b.ops {
			b.Forget(op)
		}
		for _, s := range b.scratches {
			if s != nil {
				s.Destroy()
			}
		}
	})
	return b
}

// randomVec returns n standard normal values; fresh seeds per case keep
// inputs away from zeros and from each other.
func randomVec(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	return v
}

// relErr returns ‖got − want‖/‖want‖ (the square root of the NMSE), or
// ‖got‖ when want is zero.
func relErr(got, want []float64) float64 {
	var num, den float64
	for i := range want {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}
