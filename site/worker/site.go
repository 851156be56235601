// Command worker is Conjure's edge server: it serves the built site (page,
// scripts, WebAssembly and model) from memory with the content types, caching
// and security headers in headers.go.
//
// Built for GOOS=js it runs in the Cloudflare Workers runtime through
// github.com/syumai/workers (wrangler dev, wrangler deploy); built natively it
// is the local server of `make serve`. Both serve the same embedded build.
package main

import (
	"embed"
	"io/fs"
)

// dist holds the site that `go run ./site/build -out site/worker/dist` writes.
// On a clean clone it holds only the committed .keep (hidden files are never
// served), so the package builds before the site does; `make site` fills it.
//
//go:embed all:dist
var dist embed.FS

// siteFS returns the embedded build rooted at the site's root.
func siteFS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// "dist" is a constant valid path, so fs.Sub cannot fail.
		panic("worker: " + err.Error())
	}
	return sub
}
