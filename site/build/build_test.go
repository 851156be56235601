package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"conjure/models"
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

// Both shipped models go out as hashed files holding the command line's
// embedded bytes, the photo model (the default) unframed and the face
// model framed.
func TestShipModels(t *testing.T) {
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, hashedDir), 0o755); err != nil {
		t.Fatal(err)
	}
	w := writer{out: out}
	for _, c := range []struct {
		name   string
		framed bool
	}{{models.Photo, false}, {models.Face64, true}} {
		info, err := shipModel(&w, c.name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := models.Bytes(c.name)
		got, err := os.ReadFile(filepath.Join(out, info.URL))
		if err != nil {
			t.Fatal(err)
		}
		if info.Name != c.name || info.Framed != c.framed || info.Resolution != 64 || info.Bytes != int64(len(want)) ||
			info.SHA256 != sha256Hex(want) || !bytes.Equal(got, want) || !strings.HasPrefix(info.URL, "/assets/"+c.name+".") {
			t.Errorf("%s: shipped as %+v, want its embedded bytes under /assets/%s.HASH.safetensors, framed %v", c.name, info, c.name, c.framed)
		}
	}
	if models.Names[0] != models.Default {
		t.Errorf("models.Names = %v: the build ships Names[0] as the default, want %s first", models.Names, models.Default)
	}
}
