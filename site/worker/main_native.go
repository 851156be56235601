//go:build !js

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

// defaultPort is the port of workers.Serve's own native fallback.
const defaultPort = "9900"

// main serves the embedded site on 127.0.0.1 only. workers.Serve would do
// the same on every interface and ignore a failed listen; a local preview
// server has no business on the network, and a port in use must be reported.
func main() {
	if err := run(); err != nil {
		log.Fatalf("worker: %v", err)
	}
}

func run() error {
	site := siteFS()
	if _, err := fs.Stat(site, "index.html"); err != nil {
		return errors.New("the site is not built into site/worker/dist: run `make site` (or `make serve`)")
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = defaultPort
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1:%s: %w", port, err)
	}
	fmt.Printf("conjure: serving on http://%s/\n", ln.Addr())
	srv := &http.Server{
		Handler:           NewHandler(site),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return srv.Serve(ln)
}
