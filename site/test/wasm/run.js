// run.js: runs a GOOS=js GOARCH=wasm binary under Node as Go's
// lib/wasm/wasm_exec_node.js does, but first gives it the WebAssembly
// SIMD128 GEMM kernel of model/wasmgemm the way the page's Worker does:
// instantiated with the Go instance's memory, its sgemm set as
// globalThis.conjureSgemm before go.run.
//
// Usage: node run.js KERNEL.wasm|none BINARY.wasm [ARGS...]; exec.sh wraps
// it for `go test -exec`. With "none" the binary runs without the kernel,
// on its pure-Go fallback.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

if (process.argv.length < 4) {
  console.error('usage: node run.js KERNEL.wasm|none BINARY.wasm [ARGS...]');
  process.exit(2);
}
const [kernelPath, binary, ...args] = process.argv.slice(2);

globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;
globalThis.TextEncoder = require('node:util').TextEncoder;
globalThis.TextDecoder = require('node:util').TextDecoder;
globalThis.performance ??= require('node:perf_hooks').performance;
globalThis.crypto ??= require('node:crypto');

const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
require(path.join(goroot, 'lib', 'wasm', 'wasm_exec.js'));

// loadKernel instantiates the kernel module with the Go instance's memory,
// which it imports as go.mem, and returns its sgemm.
async function loadKernel(bytes, goInstance) {
  const { instance } = await WebAssembly.instantiate(bytes, { go: { mem: goInstance.exports.mem } });
  return instance.exports.sgemm;
}

(async () => {
  const go = new Go();
  go.argv = [binary, ...args];
  go.env = Object.assign({ TMPDIR: require('node:os').tmpdir() }, process.env);
  go.exit = process.exit;
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(binary), go.importObject);
  if (kernelPath !== 'none') {
    globalThis.conjureSgemm = await loadKernel(fs.readFileSync(kernelPath), instance);
  }
  process.on('exit', (code) => { // Node exits when no event handler is pending
    if (code === 0 && !go.exited) {
      // a deadlock: make Go print the error and the stacks
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  await go.run(instance);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
