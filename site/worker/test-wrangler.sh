#!/bin/sh
# Runs the worker's HTTP tests (serve_test.go) against its GOOS=js build in
# the real Workers runtime: wrangler dev (workerd, offline) builds and serves
# it on 127.0.0.1, and the tests reach it through CONJURE_WORKER_URL.
# Needs the site built into dist/ (make site) and npm modules (npm ci).
set -eu
cd "$(dirname "$0")"

# Offline and private: no account look-ups, no metrics, config kept here.
export XDG_CONFIG_HOME="$PWD/.config" CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false

port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
log=$(mktemp /tmp/conjure-wrangler.XXXXXX)

# A session of its own, so the whole tree (npx, wrangler, workerd) is
# stopped together.
setsid npx wrangler dev --ip 127.0.0.1 --port "$port" >"$log" 2>&1 &
pid=$!
stop() {
	kill -TERM "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
trap stop EXIT INT TERM

if ! (cd ../.. && CONJURE_WORKER_URL="http://127.0.0.1:$port" ${GO:-go} test -count=1 ./site/worker); then
	echo "--- wrangler dev output ($log):"
	cat "$log"
	exit 1
fi
rm -f "$log"
