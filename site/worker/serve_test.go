package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests below run against a real HTTP server: by default an httptest
// server with this package's handler over the embedded build; with
// CONJURE_WORKER_URL set, the server at that URL (make test-worker points it
// at `wrangler dev` running the GOOS=js build of this package). Either way
// the expected content comes from the embedded build, which both serve.

// wantTypes is the Content-Type of each extension the build writes, written
// out here rather than read from headers.go so a change there must be
// deliberate.
var wantTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".wasm":        "application/wasm",
	".safetensors": "application/octet-stream",
}

// builtSite returns the embedded build, skipping the test when the site has
// not been built (a clean clone before `make site`). Under CI=true the site
// must be built: make test builds it first.
func builtSite(t *testing.T) fs.FS {
	t.Helper()
	site := siteFS()
	if _, err := fs.Stat(site, "assets.json"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the site is not built into site/worker/dist (run `make site`): %v", err)
		}
		t.Skipf("SKIP: the site is not built into site/worker/dist; run `make site` first (%v)", err)
	}
	return site
}

// server returns the base URL (no trailing slash) of the server under test.
func server(t *testing.T, site fs.FS) string {
	t.Helper()
	if u := os.Getenv("CONJURE_WORKER_URL"); u != "" {
		u = strings.TrimSuffix(u, "/")
		waitUp(t, u)
		return u
	}
	srv := httptest.NewServer(NewHandler(site))
	t.Cleanup(srv.Close)
	return srv.URL
}

// waitUp waits for the server at base to answer, as wrangler dev compiles
// the Go worker before it listens.
func waitUp(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		resp, err := http.Get(base + "/assets.json")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server at %s did not answer in 5 minutes: %v", base, err)
		}
		time.Sleep(time.Second)
	}
}

// siteFiles lists every servable file of the build: regular, not hidden.
func siteFiles(t *testing.T, site fs.FS) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(site, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk the build: %v", err)
	}
	return names
}

func get(t *testing.T, method, u string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	// No transparent gzip: the body must compare byte for byte.
	req.Header.Set("Accept-Encoding", "identity")
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp, body
}

// checkSecurityHeaders checks the headers every response must carry.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
			"connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; font-src 'none'; manifest-src 'self'; " +
			"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "microphone=()") {
		t.Errorf("%s: Permissions-Policy = %q, want camera and microphone off", what, pp)
	}
}

func TestEveryAsset(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	files := siteFiles(t, site)
	if len(files) < 12 {
		t.Fatalf("the build has %d files (%v), want the page, its scripts and the hashed assets", len(files), files)
	}
	for _, name := range files {
		want, err := fs.ReadFile(site, name)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, http.MethodGet, base+"/"+name, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /%s: status %d, want 200", name, resp.StatusCode)
			continue
		}
		if !bytes.Equal(body, want) {
			t.Errorf("GET /%s: body differs from the build (%d bytes, want %d)", name, len(body), len(want))
		}
		ext := name[strings.LastIndex(name, "."):]
		wantType, ok := wantTypes[ext]
		if !ok {
			t.Errorf("the build wrote /%s, whose extension has no Content-Type in the test", name)
		}
		if got := resp.Header.Get("Content-Type"); got != wantType {
			t.Errorf("GET /%s: Content-Type %q, want %q", name, got, wantType)
		}
		wantCache := "no-cache"
		if strings.HasPrefix(name, "assets/") {
			wantCache = "public, max-age=31536000, immutable"
		}
		if got := resp.Header.Get("Cache-Control"); got != wantCache {
			t.Errorf("GET /%s: Cache-Control %q, want %q", name, got, wantCache)
		}
		checkSecurityHeaders(t, "GET /"+name, resp.Header)
	}
}

func TestRootIsThePage(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	want, err := fs.ReadFile(site, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, http.MethodGet, base+"/", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Fatalf("GET /: status %d, %d bytes; want 200 and index.html (%d bytes)", resp.StatusCode, len(body), len(want))
	}
	if got := resp.Header.Get("Content-Type"); got != wantTypes[".html"] {
		t.Errorf("GET /: Content-Type %q", got)
	}
	// The page is same-origin only; it must not be framed or read elsewhere.
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("GET /: Access-Control-Allow-Origin %q, want none", got)
	}
	if got := resp.Header.Get("Cross-Origin-Resource-Policy"); got != "same-origin" {
		t.Errorf("GET /: Cross-Origin-Resource-Policy %q, want same-origin", got)
	}
}

// Another site embeds <conjure-restore> with a script tag; the module, the
// API, the Worker script and everything they fetch must be readable there.
func TestEmbeddableCrossOrigin(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	var assets struct {
		Wasm, WasmExec string
		Model          struct{ URL string }
	}
	if err := json.Unmarshal(mustRead(t, site, "assets.json"), &assets); err != nil {
		t.Fatalf("assets.json: %v", err)
	}
	paths := []string{"/conjure-restore.js", "/conjure.js", "/conjure-worker.js", "/pixels.js", "/assets.json", assets.Wasm, assets.WasmExec, assets.Model.URL}
	origin := http.Header{"Origin": {"https://blog.example"}}
	for _, p := range paths {
		resp, _ := get(t, http.MethodGet, base+p, origin)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", p, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("GET %s: Access-Control-Allow-Origin %q, want *", p, got)
		}
		if got := resp.Header.Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
			t.Errorf("GET %s: Cross-Origin-Resource-Policy %q, want cross-origin", p, got)
		}
	}
}

// assets.json must name files that exist, and each model's SHA-256 and
// size must be those of the bytes served (conjure.js refuses a mismatch);
// it ships the photo model (the default) and the face model.
func TestAssetManifest(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	type model struct {
		Name       string `json:"name"`
		URL        string `json:"url"`
		SHA256     string `json:"sha256"`
		Bytes      int    `json:"bytes"`
		Resolution int    `json:"resolution"`
	}
	var m struct {
		Wasm     string  `json:"wasm"`
		WasmExec string  `json:"wasmExec"`
		Kernel   string  `json:"kernel"`
		Model    model   `json:"model"`
		Models   []model `json:"models"`
	}
	_, body := get(t, http.MethodGet, base+"/assets.json", nil)
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("assets.json: %v\n%s", err, body)
	}
	hashed := regexp.MustCompile(`^/assets/[a-z0-9_]+\.[0-9a-f]{12}\.(wasm|js|safetensors)$`)
	for _, u := range []string{m.Wasm, m.WasmExec, m.Kernel} {
		if !hashed.MatchString(u) {
			t.Errorf("assets.json names %q, want /assets/NAME.HASH.EXT", u)
		}
	}
	for _, u := range []string{m.Wasm, m.Kernel} {
		resp, wasm := get(t, http.MethodGet, base+u, nil)
		if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(wasm, []byte("\x00asm")) {
			t.Errorf("GET %s: status %d, want a WebAssembly module", u, resp.StatusCode)
		}
	}
	if len(m.Models) != 2 || m.Models[0].Name != "photo" || m.Models[1].Name != "face64" || m.Model != m.Models[0] {
		t.Fatalf("assets.json models %+v, default %+v: want photo (the default) and face64", m.Models, m.Model)
	}
	for _, mi := range m.Models {
		if !hashed.MatchString(mi.URL) {
			t.Errorf("assets.json names %q, want /assets/NAME.HASH.EXT", mi.URL)
		}
		resp, data := get(t, http.MethodGet, base+mi.URL, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", mi.URL, resp.StatusCode)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != mi.SHA256 {
			t.Errorf("%s: SHA-256 %s, assets.json says %s", mi.Name, got, mi.SHA256)
		}
		if len(data) != mi.Bytes || mi.Resolution != 64 {
			t.Errorf("%s: %d bytes at %d px, assets.json says %d bytes, want 64 px", mi.Name, len(data), mi.Resolution, mi.Bytes)
		}
	}
}

// Every file the service worker precaches must be served, or its install
// fails and the site never works offline.
func TestServiceWorkerPrecache(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	sw := string(mustRead(t, site, "sw.js"))
	block := regexp.MustCompile(`(?s)const STABLE = \[(.*?)\];`).FindStringSubmatch(sw)
	if block == nil {
		t.Fatal("sw.js has no STABLE list")
	}
	paths := regexp.MustCompile(`'(/[^']*)'`).FindAllStringSubmatch(block[1], -1)
	if len(paths) < 10 {
		t.Fatalf("sw.js precaches %d stable files, want the page and all its files", len(paths))
	}
	for _, p := range paths {
		if resp, _ := get(t, http.MethodGet, base+p[1], nil); resp.StatusCode != http.StatusOK {
			t.Errorf("sw.js precaches %s, served with status %d", p[1], resp.StatusCode)
		}
	}
}

func TestHeadAndRevalidation(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	resp, body := get(t, http.MethodHead, base+"/app.js", nil)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD /app.js: status %d, %d body bytes; want 200 and none", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Content-Type"); got != wantTypes[".js"] {
		t.Errorf("HEAD /app.js: Content-Type %q", got)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("HEAD /app.js: no ETag, so no-cache costs a full download every time")
	}
	resp, body = get(t, http.MethodGet, base+"/app.js", http.Header{"If-None-Match": {etag}})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("GET /app.js If-None-Match %s: status %d, %d bytes; want 304 and none", etag, resp.StatusCode, len(body))
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		resp, _ := get(t, m, base+"/index.html", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /index.html: status %d, want 405", m, resp.StatusCode)
		}
		if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
			t.Errorf("%s /index.html: Allow %q, want \"GET, HEAD\"", m, got)
		}
	}
}

func TestUnknownPaths(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	for _, p := range []string{"/nope", "/nope.js", "/assets/", "/assets", "/assets/conjure.wasm", "/.keep", "/index.html/", "/INDEX.HTML"} {
		resp, body := get(t, http.MethodGet, base+p, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, resp.StatusCode)
		}
		if bytes.Contains(body, []byte("<html")) {
			t.Errorf("GET %s: the 404 body is a page", p)
		}
		checkSecurityHeaders(t, "GET "+p, resp.Header)
	}
}

// Traversal attempts are sent byte for byte (a Go client would clean or
// re-escape some of them). The server answers 404, or 400 where the runtime
// refuses the request line; never a file from outside the site.
func TestTraversal(t *testing.T) {
	site := builtSite(t)
	base := server(t, site)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{
		"/../etc/passwd",
		"/../../../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
		"/assets/..%2f..%2f..%2fetc%2fpasswd",
		"/..%5c..%5cetc%5cpasswd",
		"/assets\\..\\..\\etc\\passwd",
		"//etc/passwd",
		"///etc/passwd",
		"/.%2e/go.mod",
		"/index.html%00.png",
		"/%00",
		"/assets/%2e%2e/sw.js%00",
		"/worker/site.go",
		"/../site/worker/site.go",
	}
	for _, target := range targets {
		status, body := rawGet(t, u.Host, target)
		if status != http.StatusNotFound && status != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 404 (or 400)", target, status)
		}
		for _, leak := range []string{"root:", "module conjure", "package main"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s: the body contains %q", target, leak)
			}
		}
	}
}

// rawGet sends "GET target HTTP/1.1" exactly as written and returns the
// status and body.
func rawGet(t *testing.T, host, target string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", host, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: read response: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func mustRead(t *testing.T, site fs.FS, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(site, name)
	if err != nil {
		t.Fatalf("read %s from the build: %v", name, err)
	}
	return b
}

// siteName is the whole path policy; this table pins it without a server.
func TestSiteName(t *testing.T) {
	cases := []struct {
		path string
		name string
		ok   bool
	}{
		{"/", "index.html", true},
		{"/app.js", "app.js", true},
		{"/assets/conjure.0123456789ab.wasm", "assets/conjure.0123456789ab.wasm", true},
		{"", "", false},
		{"app.js", "", false},
		{"//app.js", "", false},
		{"/assets//x.js", "", false},
		{"/../app.js", "", false},
		{"/assets/../app.js", "", false},
		{"/./app.js", "", false},
		{"/app.js/", "", false},
		{"/.keep", "", false},
		{"/assets/.hidden", "", false},
		{"/a\\b", "", false},
		{"/app.js\x00", "", false},
		{"/app\n.js", "", false},
		{"/c:/windows", "", false},
	}
	for _, c := range cases {
		name, ok := siteName(c.path)
		if name != c.name || ok != c.ok {
			t.Errorf("siteName(%q) = %q, %v; want %q, %v", c.path, name, ok, c.name, c.ok)
		}
	}
}
