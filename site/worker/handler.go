package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// Handler serves the files of a built site. It answers GET and HEAD only,
// maps "/" to index.html, and answers 404 for anything that is not a regular,
// visible file of the site: see siteName for the paths it refuses.
type Handler struct {
	fsys fs.FS
}

// NewHandler returns a Handler serving fsys, whose root is the site's root.
func NewHandler(fsys fs.FS) *Handler {
	return &Handler{fsys: fsys}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := siteName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	content, err := h.open(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	setAssetHeaders(w.Header(), name)
	if !strings.HasPrefix(name, hashedDir) {
		// Stable names are revalidated on every use; the ETag turns that into
		// a 304 when nothing changed.
		sum := sha256.Sum256(content)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	}
	if r.Method == http.MethodHead {
		// ServeContent would answer HEAD with a Content-Length and no body,
		// which syumai/workers turns into a FixedLengthStream that fails
		// (HTTP 500). Answered as a GET, the headers are the same and the
		// server drops the body: net/http eats the writes, the Workers
		// runtime sends no body for HEAD.
		get := r.Clone(r.Context())
		get.Method = http.MethodGet
		r = get
	}
	// ServeContent answers ranges and If-None-Match. Embedded files have no
	// modification time, so none is sent.
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(content))
}

// open returns the content of the regular file name, or an error for a
// missing file or a directory.
func (h *Handler) open(name string) ([]byte, error) {
	f, err := h.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	return io.ReadAll(f)
}

// siteName turns a decoded URL path into the name of a site file and reports
// whether the path may name one. It refuses, rather than cleans, anything
// unusual: empty, "." and ".." segments (so "//etc/passwd" and "/a/../b"),
// hidden files, backslashes and colons (Windows separators and drive
// letters), control characters such as NUL, and paths that
// fs.ValidPath rejects. Percent-escapes are already decoded by net/url, so
// "%2e%2e" and "%2f" arrive here as ".." and "/".
func siteName(urlPath string) (string, bool) {
	if urlPath == "/" {
		return "index.html", true
	}
	name, ok := strings.CutPrefix(urlPath, "/")
	if !ok || strings.ContainsAny(name, `\:`) {
		return "", false
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return "", false
		}
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" || strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	if !fs.ValidPath(name) {
		return "", false
	}
	return name, true
}
