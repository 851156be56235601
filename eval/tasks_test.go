package eval

import (
	"testing"

	"conjure/restore"
)

// Whole photos assume the task's default noise where the task has none, as
// `conjure restore` does; framed images and noisy tasks their own.
func TestConfigNoise(t *testing.T) {
	for _, c := range []struct {
		task  string
		photo bool
		want  float64
	}{
		{"deblur", true, restore.DeblurSigma}, {"deblur", false, 0}, {"deblur-s0.02", true, 0.02},
		{"sr4", true, 0}, {"denoise", false, restore.DenoiseSigma},
	} {
		task, err := LookupTask(c.task)
		if err != nil {
			t.Fatal(err)
		}
		if got := (Config{Photo: c.photo}).Noise(task); got != c.want {
			t.Errorf("%s, photo %t: noise %v, want %v", c.task, c.photo, got, c.want)
		}
	}
}
