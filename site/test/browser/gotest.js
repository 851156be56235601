// gotest.js: runs a GOOS=js GOARCH=wasm binary (a `go test -c` binary, say)
// in a page of Debian's Chromium, with the SIMD GEMM kernel of
// model/wasmgemm loaded as the site's Worker loads it, and prints what the
// binary prints; it exits with the binary's exit code. It is the Chromium
// twin of site/test/wasm/run.js (Node), for figures that must come from the
// browser's own engine, such as `make bench-gemm-wasm`.
//
// Usage: node gotest.js KERNEL.wasm|none BINARY.wasm [ARGS...]. The binary
// sees no file system and no environment beyond CONJURE_WASM_KERNEL.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { launch } from './chromium.js';

if (process.argv.length < 4) {
  console.error('usage: node gotest.js KERNEL.wasm|none BINARY.wasm [ARGS...]');
  process.exit(2);
}
const [kernelPath, binary, ...args] = process.argv.slice(2);
const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();

// The page: Go's browser glue, then the binary, its kernel, and go.run.
// Go's glue writes the binary's stdout and stderr with console.log, line
// by line; go.exit records the code for this script to collect.
const page = `<!doctype html><meta charset="utf-8"><script src="/wasm_exec.js"></script>
<script type="module">
const go = new Go();
go.argv = ${JSON.stringify([path.basename(binary), ...args])};
go.env = ${JSON.stringify({ CONJURE_WASM_KERNEL: kernelPath === 'none' ? 'none' : '' })};
go.exit = (code) => { globalThis.goExit = code; };
try {
  const { instance } = await WebAssembly.instantiateStreaming(fetch('/binary.wasm'), go.importObject);
  if (${kernelPath !== 'none'}) {
    const kernel = await WebAssembly.instantiateStreaming(fetch('/kernel.wasm'), { go: { mem: instance.exports.mem } });
    globalThis.conjureSgemm = kernel.instance.exports.sgemm;
  }
  await go.run(instance);
} catch (err) {
  console.log(String(err));
  globalThis.goExit = 1;
}
</script>`;

const files = {
  '/': ['text/html', () => page],
  '/wasm_exec.js': ['text/javascript', () => fs.readFileSync(path.join(goroot, 'lib', 'wasm', 'wasm_exec.js'))],
  '/binary.wasm': ['application/wasm', () => fs.readFileSync(binary)],
  '/kernel.wasm': ['application/wasm', () => fs.readFileSync(kernelPath)],
};
const server = http.createServer((req, res) => {
  const f = files[req.url];
  if (!f) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': f[0] }).end(f[1]());
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

const browser = await launch();
let code = 1;
try {
  const tab = await browser.context.newPage();
  tab.on('console', (msg) => console.log(msg.text()));
  tab.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await tab.waitForFunction(() => globalThis.goExit !== undefined, null, { timeout: 0, polling: 200 });
  code = await tab.evaluate(() => globalThis.goExit);
} finally {
  await browser.close();
  server.close();
}
process.exit(code);
