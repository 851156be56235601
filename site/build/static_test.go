package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The site is served with a strict Content-Security-Policy (no inline
// scripts, styles or handlers) and must make no request to another origin;
// a page that breaks either fails in the browser, often silently. This
// checks the static files the build ships.
func TestStaticFilesFollowCSP(t *testing.T) {
	dir := filepath.Join("..", "static")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	inline := []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>`), // checked for src below
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`),
		regexp.MustCompile(`(?i)javascript:`),
	}
	// Absolute URLs are allowed only as the SVG namespace name and as the
	// HOST placeholder of usage comments; neither is fetched.
	url := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*|https?://[^\s"'<>)]+`)
	allowed := regexp.MustCompile(`^(http://www\.w3\.org/2000/svg|https://HOST/.*)$`)
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if filepath.Ext(name) == ".html" {
			for _, re := range inline {
				for _, m := range re.FindAllString(text, -1) {
					if strings.HasPrefix(strings.ToLower(m), "<script") && strings.Contains(m, " src=") {
						continue
					}
					t.Errorf("%s: %q is blocked by the CSP (script-src/style-src 'self')", name, m)
				}
			}
		}
		for _, m := range url.FindAllString(text, -1) {
			if !allowed.MatchString(m) {
				t.Errorf("%s: %q points at another origin; the site must make no such request", name, m)
			}
		}
	}
}
