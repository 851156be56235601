// conjure-worker.js: Conjure's dedicated Web Worker. It starts Go's
// WebAssembly (wasm/) and bridges conjure.js's messages to the
// globalThis.conjureEngine functions the Go code registers, so that the
// network runs off the page's thread and the page never freezes.
//
// Messages in:  {id, op: 'load', wasmExec, wasm, weights: ArrayBuffer, backend: 'auto'|'webgpu'|'cpu'}
//               {id, op: 'restore', request: {task, pixels, width, height, mask?, steps, method, seed, sigmaY?}}
//               {id, op: 'plan', request: {task, width, height, steps, method, seed}}
// Messages out: {id, progress: [done, total]} during a restore (tile-steps), then
//               {id, ok: true, value, info} or {id, ok: false, error, info}
// URLs arrive absolute, so this script also works when started from a blob
// by a page on another origin.
'use strict';

let engine = null; // globalThis.conjureEngine once Go's main has run
let booting = null; // the pending start, so concurrent loads start Go once

// boot loads Go's wasm_exec.js and the module, runs main (which registers
// conjureEngine and then waits for calls) and returns the engine.
async function boot(wasmExecURL, wasmURL) {
  try {
    importScripts(wasmExecURL);
  } catch (err) {
    throw new Error(`could not load ${wasmExecURL} (${err.message}): check that the whole site is deployed, then reload`);
  }
  const go = new Go();
  let resp;
  try {
    resp = await fetch(wasmURL);
  } catch (err) {
    throw new Error(`could not download Conjure's WebAssembly (${err.message}): check the connection and reload`);
  }
  if (!resp.ok) {
    throw new Error(`downloading ${wasmURL} failed (HTTP ${resp.status}): check that the whole site is deployed, then reload`);
  }
  // instantiateStreaming needs the application/wasm type; a server that
  // sends another still works, through a copy.
  let result;
  try {
    result = resp.headers.get('Content-Type') === 'application/wasm'
      ? await WebAssembly.instantiateStreaming(resp, go.importObject)
      : await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  } catch (err) {
    throw new Error(`could not start Conjure's WebAssembly (${err.message}): use a current browser; a site that sets a Content-Security-Policy must allow script-src 'wasm-unsafe-eval'`);
  }
  // The WebGPU binding uploads buffers straight from the module's memory,
  // which it finds here.
  globalThis.wasm = result;
  // run resolves only when main returns, which it never does: main runs
  // until it registers conjureEngine and waits.
  go.run(result.instance).catch((err) => console.error('conjure: Go exited:', err));
  if (!globalThis.conjureEngine) {
    throw new Error('Conjure\'s WebAssembly started but registered nothing: rebuild the site with `make site`');
  }
  return globalThis.conjureEngine;
}

async function handle(msg) {
  switch (msg.op) {
    case 'load':
      if (!engine) {
        booting ??= boot(msg.wasmExec, msg.wasm).catch((err) => {
          booting = null; // let a later load try again
          throw err;
        });
        engine = await booting;
      }
      return { value: await engine.load(new Uint8Array(msg.weights), msg.backend) };
    case 'restore': {
      if (!engine) {
        throw new Error('no model loaded: call Conjure.load() first');
      }
      const onProgress = (done, total) => self.postMessage({ id: msg.id, progress: [done, total] });
      const value = await engine.restore(msg.request, onProgress);
      return { value, transfer: [value.pixels.buffer] };
    }
    case 'plan':
      if (!engine) {
        throw new Error('no model loaded: call Conjure.load() first');
      }
      return { value: await engine.plan(msg.request) };
    default:
      throw new Error(`unknown message ${JSON.stringify(msg.op)}: conjure.js and conjure-worker.js are from different builds; reload`);
  }
}

self.onmessage = async (e) => {
  const msg = e.data;
  let reply;
  let transfer = [];
  try {
    const r = await handle(msg);
    reply = { id: msg.id, ok: true, value: r.value };
    transfer = r.transfer ?? [];
  } catch (err) {
    reply = { id: msg.id, ok: false, error: String(err?.message ?? err) };
  }
  reply.info = engine ? engine.info() : null;
  self.postMessage(reply, transfer);
};
