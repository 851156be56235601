package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// clean must empty the output folder of everything a build writes, but keep
// hidden entries: site/worker/dist's committed .keep is what lets the worker
// compile on a clean clone.
func TestCleanKeepsHiddenEntries(t *testing.T) {
	out := t.TempDir()
	for _, p := range []string{".keep", "index.html", "stale.js", "assets/conjure.0123456789ab.wasm", ".hidden/x"} {
		full := filepath.Join(out, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := clean(out); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{".hidden", ".keep"}; !slices.Equal(left, want) {
		t.Errorf("after clean: %v, want %v", left, want)
	}
	if err := clean(filepath.Join(out, "missing")); err != nil {
		t.Errorf("clean of a missing folder: %v, want nil (the first build creates it)", err)
	}
}

// A hashed name changes with the content and the file holds that content.
func TestHashedNames(t *testing.T) {
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, hashedDir), 0o755); err != nil {
		t.Fatal(err)
	}
	w := writer{out: out}
	a := w.hashed("conjure", ".wasm", []byte("one"))
	b := w.hashed("conjure", ".wasm", []byte("two"))
	if w.err != nil {
		t.Fatal(w.err)
	}
	// sha256("one") starts 7692c3ad3540.
	if a != "/assets/conjure.7692c3ad3540.wasm" {
		t.Errorf("hashed name %q, want /assets/conjure.7692c3ad3540.wasm", a)
	}
	if a == b || !regexp.MustCompile(`^/assets/conjure\.[0-9a-f]{12}\.wasm$`).MatchString(b) {
		t.Errorf("hashed names %q and %q: want distinct /assets/conjure.HASH.wasm", a, b)
	}
	got, err := os.ReadFile(filepath.Join(out, a))
	if err != nil || string(got) != "one" {
		t.Errorf("%s holds %q (%v), want \"one\"", a, got, err)
	}
}
