package main

import (
	"net/http"
	"path"
	"strings"
)

// contentSecurityPolicy allows only this origin. 'wasm-unsafe-eval' is the
// one relaxation: Go's WebAssembly needs WebAssembly.instantiate. blob: and
// data: images are the page's own canvases turned into downloads and previews.
// The page is not meant to be framed; other sites embed <conjure-restore>
// with a script tag instead.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self' 'wasm-unsafe-eval'; " +
	"worker-src 'self'; " +
	"connect-src 'self'; " +
	"img-src 'self' blob: data:; " +
	"style-src 'self'; " +
	"font-src 'none'; " +
	"manifest-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"form-action 'none'; " +
	"frame-ancestors 'none'"

// permissionsPolicy turns off the powerful features the app never uses, so
// a bug or an injected script cannot ask for them.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), " +
	"serial=(), hid=(), midi=(), display-capture=()"

// Cache-Control values: content-hashed files never change under their name;
// every other file is revalidated on each use (its ETag makes that cheap).
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// hashedDir holds the content-hashed assets written by site/build.
const hashedDir = "assets/"

// contentTypes maps a file extension to the Content-Type it is served with.
// Files are never sniffed (X-Content-Type-Options: nosniff), so every
// extension the build writes must be here.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".wasm":        "application/wasm",
	".safetensors": "application/octet-stream",
}

// contentType returns the Content-Type for the site file name.
func contentType(name string) string {
	if t, ok := contentTypes[path.Ext(name)]; ok {
		return t
	}
	return "application/octet-stream"
}

// setSecurityHeaders sets the headers every response carries, errors included.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", permissionsPolicy)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// setAssetHeaders sets the headers of a successful response for the site
// file name. Everything but the page is public and may be read by other
// origins: a blog that embeds <conjure-restore> loads conjure-restore.js,
// conjure.js, the Worker script, assets.json, the WebAssembly and the model
// from this origin.
func setAssetHeaders(h http.Header, name string) {
	h.Set("Content-Type", contentType(name))
	if strings.HasPrefix(name, hashedDir) {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}
	if path.Ext(name) != ".html" {
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
}
