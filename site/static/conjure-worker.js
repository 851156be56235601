// conjure-worker.js: Conjure's dedicated Web Worker. It starts Go's
// WebAssembly (wasm/) and bridges conjure.js's messages to the
// globalThis.conjureEngine functions the Go code registers, so that the
// network runs off the page's thread and the page never freezes.
//
// On the CPU with the photo model it also starts a pool of tile workers:
// more instances of this script, each running Go's WebAssembly from the
// one compiled Module with its own copy of the model. The sampler stays
// here; each tile of a step goes to its worker (tile k to worker k mod N,
// for the whole restore, so a worker keeps its own tiles' activations
// from ε to its VJP) and only the tiles' inputs and outputs move, as
// transferred buffers. Terminating this Worker ends its pool too.
//
// Messages in:  {id, op: 'load', wasmExec, wasm, kernel, worker, weights: ArrayBuffer, backend: 'auto'|'webgpu'|'cpu', workers?}
//               {id, op: 'restore', request: {task, pixels, width, height, mask?, steps, method, seed, sigmaY?, preview?}}
//               {id, op: 'plan', request: {task, width, height, steps, method, seed}}
// Messages out: {id, progress: [done, total]} during a restore (tile-steps),
//               {id, preview: {pixels, width, height, step, steps}} after each
//               step when request.preview is set (the last, the result), then
//               {id, ok: true, value, info} or {id, ok: false, error, info}
// A pool worker gets {id, op: 'tile-load', wasmExec, module, kernel, weights, keep},
// then 'tile-eps' {slot, x, tau}, 'tile-vjp' {slot, v} (the bytes of
// float64 vectors, answered the same way) and 'tile-reset'.
// URLs arrive absolute, so this script also works when started from a blob
// by a page on another origin.
'use strict';

let engine = null; // globalThis.conjureEngine once Go's main has run
let booting = null; // the pending start, so concurrent loads start Go once
let module = null; // the compiled WebAssembly, which pool workers share
let kernel = null; // the compiled SIMD GEMM kernel, or null without one

// A pool worker keeps the activations of KEEP tiles between ε and VJP and
// recomputes the forward pass of any more. It holds the model and a
// network (about 80 MB) and about 60 MB a kept tile (a network with its
// activations, measured natively).
const KEEP = 6;
const WORKER_MB = 80 + KEEP * 60;

// compile downloads and compiles Conjure's WebAssembly.
async function compile(wasmURL) {
  let resp;
  try {
    resp = await fetch(wasmURL);
  } catch (err) {
    throw new Error(`could not download Conjure's WebAssembly (${err.message}): check the connection and reload`);
  }
  if (!resp.ok) {
    throw new Error(`downloading ${wasmURL} failed (HTTP ${resp.status}): check that the whole site is deployed, then reload`);
  }
  // compileStreaming needs the application/wasm type; a server that sends
  // another still works, through a copy.
  try {
    return resp.headers.get('Content-Type') === 'application/wasm'
      ? await WebAssembly.compileStreaming(resp)
      : await WebAssembly.compile(await resp.arrayBuffer());
  } catch (err) {
    throw new Error(`could not compile Conjure's WebAssembly (${err.message}): use a current browser; a site that sets a Content-Security-Policy must allow script-src 'wasm-unsafe-eval'`);
  }
}

// compileKernel downloads and compiles the SIMD128 GEMM kernel of the
// convolutions (model/wasmgemm). Without it — a browser with no SIMD128, a
// failed download — Go runs its own loops: the same results, slower.
async function compileKernel(url) {
  try {
    const resp = await fetch(url);
    if (!resp.ok) {
      throw new Error(`HTTP ${resp.status}`);
    }
    return await WebAssembly.compile(await resp.arrayBuffer());
  } catch (err) {
    console.warn(`conjure: no SIMD kernel (${err.message}); the CPU path runs slower`);
    return null;
  }
}

// boot loads Go's wasm_exec.js, instantiates the compiled module and the
// kernel, which imports the module's memory so that Go's slices are its
// operands, runs main (which registers conjureEngine and then waits for
// calls) and returns the engine.
async function boot(wasmExecURL, compiled, compiledKernel) {
  try {
    importScripts(wasmExecURL);
  } catch (err) {
    throw new Error(`could not load ${wasmExecURL} (${err.message}): check that the whole site is deployed, then reload`);
  }
  const go = new Go();
  let instance;
  try {
    instance = await WebAssembly.instantiate(compiled, go.importObject);
  } catch (err) {
    throw new Error(`could not start Conjure's WebAssembly (${err.message}): the browser may be out of memory; close other tabs and reload`);
  }
  // The WebGPU binding uploads buffers straight from the module's memory,
  // which it finds here.
  globalThis.wasm = { module: compiled, instance };
  if (compiledKernel) {
    // model/gemm_js.go looks the kernel up once, on the first product.
    const k = await WebAssembly.instantiate(compiledKernel, { go: { mem: instance.exports.mem } });
    globalThis.conjureSgemm = k.exports.sgemm;
  }
  // run resolves only when main returns, which it never does: main runs
  // until it registers conjureEngine and waits.
  go.run(instance).catch((err) => console.error('conjure: Go exited:', err));
  if (!globalThis.conjureEngine) {
    throw new Error('Conjure\'s WebAssembly started but registered nothing: rebuild the site with `make site`');
  }
  return globalThis.conjureEngine;
}

// start boots Go once, from the URLs or the compiled modules.
async function start(wasmExec, wasm, compiled, kernelURL, compiledKernel) {
  if (!engine) {
    booting ??= (async () => {
      [module, kernel] = await Promise.all([
        compiled ?? compile(wasm),
        compiledKernel !== undefined ? compiledKernel : compileKernel(kernelURL),
      ]);
      return boot(wasmExec, module, kernel);
    })().catch((err) => {
      booting = null; // let a later load try again
      throw err;
    });
    engine = await booting;
  }
  return engine;
}

// poolSize is how many tile workers to start: asked, or one a core, at
// most half the device's memory (navigator.deviceMemory, in GB, when the
// browser tells) and 16.
function poolSize(asked) {
  if (asked !== undefined) {
    return asked;
  }
  const cores = navigator.hardwareConcurrency || 1;
  const mb = ((navigator.deviceMemory || 4) * 1024) / 2;
  return Math.max(1, Math.min(cores, 16, Math.floor(mb / WORKER_MB)));
}

// startTileWorker starts another instance of this script. A script on
// another origin than the page cannot be a Worker's URL; a blob that
// imports it can.
function startTileWorker(url, i) {
  const name = `conjure-tiles-${i}`;
  if (new URL(url).origin === self.location.origin) {
    return new Worker(url, { name });
  }
  const blob = new Blob([`importScripts(${JSON.stringify(url)});`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(blob), { name });
}

// Pool is the tile workers, as globalThis.conjurePool for Go (wasm/pool_js.go).
class Pool {
  #workers = []; // {worker, pending: Map id → {resolve, reject}, failed}
  #next = 1;

  // start starts n workers and loads the model into each.
  static async start(n, url, wasmExec, weights) {
    const p = new Pool();
    for (let i = 0; i < n; i++) {
      const w = { worker: startTileWorker(url, i), pending: new Map(), failed: null };
      w.worker.onmessage = (e) => p.#receive(w, e.data);
      w.worker.onerror = (e) => {
        e.preventDefault?.();
        p.#fail(w, new Error(`tile worker ${i} failed (${e.message || 'it could not start'})`));
      };
      p.#workers.push(w);
    }
    try {
      await Promise.all(p.#workers.map((w) => p.#call(w, { op: 'tile-load', wasmExec, module, kernel, weights, keep: KEEP })));
    } catch (err) {
      p.close();
      throw err;
    }
    return p;
  }

  eps(worker, slot, x, tau) {
    return this.#call(this.#workers[worker], { op: 'tile-eps', slot, x: x.buffer, tau }, [x.buffer]);
  }

  vjp(worker, slot, v) {
    return this.#call(this.#workers[worker], { op: 'tile-vjp', slot, v: v.buffer }, [v.buffer]);
  }

  // reset makes every worker forget its tiles; each handles its messages
  // in order, so the next tile waits for it.
  reset() {
    for (const w of this.#workers) {
      this.#call(w, { op: 'tile-reset' }).catch(() => {}); // a failed worker fails the next tile
    }
  }

  close() {
    for (const w of this.#workers) {
      w.worker.terminate();
      this.#fail(w, new Error('the pool was closed'));
    }
  }

  #call(w, msg, transfer = []) {
    if (w.failed) {
      return Promise.reject(w.failed);
    }
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      w.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  #receive(w, msg) {
    const p = w.pending.get(msg.id);
    if (!p) {
      return;
    }
    w.pending.delete(msg.id);
    if (msg.ok) {
      p.resolve(msg.value);
    } else {
      p.reject(new Error(msg.error));
    }
  }

  #fail(w, err) {
    w.failed ??= err;
    for (const p of w.pending.values()) {
      p.reject(err);
    }
    w.pending.clear();
  }
}

// usePool starts the tile workers for a CPU engine of the photo model. A
// pool that cannot start leaves the engine on this one thread.
async function usePool(msg, info) {
  globalThis.conjurePool?.close(); // an earlier load's, with its model
  delete globalThis.conjurePool;
  if (info.backend !== 'cpu' || info.framed) {
    return;
  }
  const n = poolSize(msg.workers);
  try {
    globalThis.conjurePool = await Pool.start(n, msg.worker, msg.wasmExec, msg.weights);
  } catch (err) {
    console.warn(`conjure: no tile workers (${err.message}); the CPU path runs on one thread`);
    return;
  }
  const err = engine.usePool(n, KEEP);
  if (err) {
    throw err;
  }
}

async function handle(msg) {
  switch (msg.op) {
    case 'load': {
      await start(msg.wasmExec, msg.wasm, null, msg.kernel);
      const info = await engine.load(new Uint8Array(msg.weights), msg.backend);
      await usePool(msg, info);
      return { value: engine.info() };
    }
    case 'tile-load':
      await start(msg.wasmExec, null, msg.module, null, msg.kernel);
      return { value: await engine.tileLoad(new Uint8Array(msg.weights), msg.keep) };
    case 'tile-eps': {
      const value = await engine.tileEps(msg.slot, new Uint8Array(msg.x), msg.tau);
      return { value, transfer: [value.buffer] };
    }
    case 'tile-vjp': {
      const value = await engine.tileVJP(msg.slot, new Uint8Array(msg.v));
      return { value, transfer: [value.buffer] };
    }
    case 'tile-reset':
      return { value: engine.tileReset() };
    case 'restore': {
      if (!engine) {
        throw new Error('no model loaded: call Conjure.load() first');
      }
      const onProgress = (done, total) => self.postMessage({ id: msg.id, progress: [done, total] });
      const onPreview = msg.request.preview
        ? (pixels, width, height, step, steps) => self.postMessage({ id: msg.id, preview: { pixels, width, height, step, steps } }, [pixels.buffer])
        : undefined;
      const value = await engine.restore(msg.request, onProgress, onPreview);
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
