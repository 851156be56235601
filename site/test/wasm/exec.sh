#!/usr/bin/env bash
# exec.sh: a `go test -exec` (or `go run -exec`) runner for GOOS=js
# GOARCH=wasm binaries that gives them the WebAssembly SIMD GEMM kernel,
# as the page does (run.js). It writes the kernel with cmd/wasmgemm unless
# CONJURE_WASM_KERNEL names a file already written, or "none" to run on the
# pure-Go fallback. With CONJURE_WASM_RUNNER=chromium the binary runs in a
# page of Debian's Chromium (site/test/browser/gotest.js) instead of Node.
#
#   GOOS=js GOARCH=wasm go test -exec "$PWD/site/test/wasm/exec.sh" ./model
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
kernel=${CONJURE_WASM_KERNEL:-}
if [ -z "$kernel" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	kernel=$tmp/kernel.wasm
	(cd "$root" && GOOS= GOARCH= go run ./cmd/wasmgemm -o "$kernel")
fi
if [ "${CONJURE_WASM_RUNNER:-node}" = chromium ]; then
	status=0
	node "$root/site/test/browser/gotest.js" "$kernel" "$@" || status=$?
	exit $status
fi
# Node's default stack is too small for some Go tests, as in Go's own
# go_js_wasm_exec.
status=0
node --stack-size=8192 "$here/run.js" "$kernel" "$@" || status=$?
exit $status
