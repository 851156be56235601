// conjure.js: Conjure's public JavaScript API. A photo is restored on the
// visitor's own GPU (WebGPU) or, without one, on the CPU, inside a Web
// Worker; nothing is uploaded.
//
//   import { Conjure } from 'https://HOST/conjure.js';
//   const c = await Conjure.load();                       // the photo model
//   const { image, ms, backend } = await c.restore({ task: 'sr4', input: imageData });
//
// The photo model (the default) restores a whole photo at its own size,
// its network run on overlapping 64×64 tiles; the face model ('face64')
// restores the 64×64 frame of the input's centred square.
//
// Every URL is taken relative to this module's own URL, so the module works
// when another site imports it (the server must then allow that origin
// with CORS headers). The page, the <conjure-restore> web component and
// the browser tests all use exactly this API.

const TASKS = ['sr4', 'sr2', 'inpaint', 'deblur', 'gray', 'denoise'];
const METHODS = ['cpigdm', 'pigdm'];
const MAX_STEPS = 100; // as wasm/engine.MaxSteps
const MAX_WORKERS = 64;
const CACHE = 'conjure-models-v1';

/** A loaded model with the Worker that runs it. */
export class Conjure {
  #worker;
  #info;
  #model;
  #next = 1;
  #pending = new Map(); // id → {resolve, reject, onProgress, onPreview}
  #queue = Promise.resolve(); // restores run one at a time
  #ready = Promise.resolve(); // the Worker's model load, after a cancelled restore restarted it
  #load; // the load message, less its weights: what a restarted Worker is sent
  #weights; // a copy of the weight file, for that restart

  /** Use Conjure.load. */
  constructor(worker, model) {
    this.#model = model;
    this.#attach(worker);
  }

  #attach(worker) {
    this.#worker = worker;
    worker.onmessage = (e) => this.#receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault?.();
      this.#failAll(new Error(`Conjure's Web Worker failed (${e.message || 'it could not start'}): reload the page; if the site sets a Content-Security-Policy, allow worker-src 'self' and script-src 'wasm-unsafe-eval'`));
    };
  }

  /**
   * Loads a model and starts the Worker that runs it, on WebGPU when the
   * browser offers an adapter, else on the CPU (info().notice says why).
   * @param {{model?: string, backend?: 'auto'|'webgpu'|'cpu', workers?: number}} [options] model: a
   *   shipped model's name ('photo', the default, or 'face64'; its SHA-256
   *   is verified and it is kept in the Cache API), or the URL of another
   *   weight file; backend 'auto' uses a hardware WebGPU adapter and the CPU
   *   otherwise (a software fallback adapter such as SwiftShader is slower
   *   than the CPU path; info().notice says so), 'webgpu' uses any adapter,
   *   'cpu' skips WebGPU; workers: on the CPU, how many Web Workers run
   *   the photo model's tiles (default: one a core, as the device's memory
   *   allows; info().threads says how many run). The result does not
   *   depend on it.
   * @returns {Promise<Conjure>}
   */
  static async load({ model, backend = 'auto', workers } = {}) {
    if (backend !== 'auto' && backend !== 'webgpu' && backend !== 'cpu') {
      throw new Error(`backend ${JSON.stringify(backend)}: use 'auto', 'webgpu' or 'cpu'`);
    }
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1 && workers <= MAX_WORKERS)) {
      throw new Error(`workers ${workers}: use a whole number from 1 to ${MAX_WORKERS}, or leave it out for one a core`);
    }
    if (model !== undefined && (typeof model !== 'string' || model === '')) {
      throw new Error(`model ${JSON.stringify(model)}: use 'photo', 'face64' or the URL of a .safetensors file`);
    }
    const assets = await fetchAssets();
    const shipped = assets.models.find((m) => m.name === (model ?? assets.model.name));
    const url = shipped ? shipped.url : new URL(model, globalThis.location?.href ?? import.meta.url).href;
    const weights = await fetchModel(url, shipped ? shipped.sha256 : null, assets.models.map((m) => m.name));
    const c = new Conjure(startWorker(), {
      name: shipped ? shipped.name : url.split('/').pop().replace(/\.[^.]*$/, ''),
      bytes: weights.byteLength,
      shipped: assets.models.map(({ name, bytes, resolution, framed }) => ({ name, bytes, resolution, framed })),
    });
    c.#load = { op: 'load', wasmExec: assets.wasmExec, wasm: assets.wasm, kernel: assets.kernel, worker: workerURL().href, backend, workers };
    c.#weights = weights.slice(0);
    try {
      await c.#post({ ...c.#load, weights }, [weights]);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  /**
   * What runs the model: {backend: 'webgpu'|'cpu', adapter, threads,
   * model: {name, resolution, bytes, framed}, models: [{name, resolution,
   * bytes, framed}], notice?}. threads: how many Web Workers run a CPU
   * restore's tiles (1 on WebGPU); framed: the model restores the
   * resolution×resolution frame of a centred square (the face model), else
   * whole photos; models lists the shipped ones, the default first; notice
   * says why the CPU runs.
   */
  info() {
    const i = this.#info;
    const out = {
      backend: i.backend,
      adapter: i.adapter,
      threads: i.threads,
      model: { name: this.#model.name, resolution: i.resolution, bytes: i.bytes, framed: i.framed },
      models: this.#model.shipped.map((m) => ({ ...m })),
    };
    if (i.notice) {
      out.notice = i.notice;
    }
    return out;
  }

  /**
   * Restores an image, as `conjure restore --model NAME` does. With the
   * photo model the input is the whole photo at its own size, every side
   * at least 16 px: sr4 returns 4W×4H, sr2 2W×2H (outputs up to
   * 2048×2048), the others W×H (deblur and denoise up to 2048×2048,
   * inpaint and gray up to 4096×4096). With a framed model (face64) the
   * input's centred square is resized to R×R (sr4: (R/4)×(R/4), sr2:
   * (R/2)×(R/2); R = info().model.resolution) and the result is R×R.
   * onProgress counts tile-steps: the network's tiles times the steps.
   * onPreview, when given, gets the restoration as it stands after every
   * step, an ImageData the size of the result: the step's estimate of the
   * clean image (Tweedie's x̂₀), finished as the result is; the last call,
   * with step === steps, gets the result itself. Each costs one read-back
   * and one copy of the output; without onPreview there are none.
   * GPU memory: the tiled network holds one batch of tiles' activations
   * (256 MiB, 11 tiles of the photo model), every tile's result and a copy
   * of the image; C-ΠGDM adds nine image-sized vectors. A 2048×2048
   * output needs about 860 MB (408 MB the network, 9 × 50 MB the sampler).
   * @param {{task: 'sr4'|'sr2'|'inpaint'|'deblur'|'gray'|'denoise',
   *   input: ImageData, mask?: ImageData, steps?: number,
   *   method?: 'cpigdm'|'pigdm', seed?: number, sigmaY?: number,
   *   signal?: AbortSignal,
   *   onProgress?: (done: number, total: number) => void,
   *   onPreview?: (image: ImageData, step: number, steps: number) => void}} o
   *   mask: inpainting only, the size of input, white = keep, black = fill.
   *   sigmaY: the measurement's noise in [−1, 1] units, as `conjure restore
   *   --sigma-y` (0: exact; left out: the task's default, 0.05 for denoise,
   *   0.005 for deblur).
   *   signal: aborting it cancels the restore, which rejects with the
   *   signal's reason (an AbortError); the Worker running it is stopped,
   *   which frees its memory, and a fresh one loads the model again for the
   *   next call.
   * @returns {Promise<{image: ImageData, ms: number, backend: 'webgpu'|'cpu'}>}
   */
  async restore({ task, input, mask, steps = 5, method = 'cpigdm', seed = 0, sigmaY, signal, onProgress, onPreview } = {}) {
    checkOptions(task, steps, method);
    for (const [name, f] of [['onProgress', onProgress], ['onPreview', onPreview]]) {
      if (f !== undefined && typeof f !== 'function') {
        throw new Error(`${name} must be a function, or left out`);
      }
    }
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new Error('signal must be an AbortSignal (from new AbortController().signal), or left out');
    }
    signal?.throwIfAborted();
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`seed ${seed}: use a whole number ≥ 0`);
    }
    if (sigmaY !== undefined && !(typeof sigmaY === 'number' && Number.isFinite(sigmaY) && sigmaY >= 0)) {
      throw new Error(`sigmaY ${sigmaY}: use a finite number ≥ 0 in [−1, 1] units (0: an exact measurement), or leave it out`);
    }
    checkImage(input, 'input');
    if (task === 'inpaint') {
      checkImage(mask, 'mask (inpainting needs one: white = keep, black = fill)');
      if (mask.width !== input.width || mask.height !== input.height) {
        throw new Error(`mask is ${mask.width}×${mask.height} but input is ${input.width}×${input.height}: give them the same size`);
      }
    }
    // Copies, so the caller's ImageData stay usable after the transfer.
    const request = {
      task, steps, method, seed, sigmaY,
      width: input.width,
      height: input.height,
      pixels: new Uint8ClampedArray(input.data),
      mask: task === 'inpaint' ? new Uint8ClampedArray(mask.data) : undefined,
      preview: onPreview !== undefined,
    };
    const transfer = [request.pixels.buffer, ...(request.mask ? [request.mask.buffer] : [])];
    const run = this.#queue.then(async () => {
      signal?.throwIfAborted();
      const cancel = () => this.#cancel(signal.reason);
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        const t0 = performance.now();
        const out = await this.#call({ op: 'restore', request }, transfer, { onProgress, onPreview });
        return {
          image: new ImageData(out.pixels, out.width, out.height),
          ms: performance.now() - t0,
          backend: out.backend,
        };
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * The work a restore of a width×height input would take, without
   * pixels: {width, height} of the output, tiles (per network pass; for
   * inpainting an upper bound, the window depends on the mask),
   * tileSteps (tiles × steps, the total onProgress counts to), seconds (the
   * estimate on this backend: on the CPU from one tile's measured time,
   * refined by each restore; on WebGPU from a one-tile, one-step
   * calibration at load, then from the latest restore) and backend. Rejects as restore would for a size over the limits.
   * @param {{task: string, width: number, height: number, steps?: number, method?: string}} o
   * @returns {Promise<{width: number, height: number, tiles: number, tileSteps: number, seconds: number, backend: string}>}
   */
  async plan({ task, width, height, steps = 5, method = 'cpigdm' } = {}) {
    checkOptions(task, steps, method);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new Error(`size ${width}×${height}: give the input's width and height in pixels`);
    }
    return this.#call({ op: 'plan', request: { task, width, height, steps, method, seed: 0 } }, []);
  }

  /** Stops the Worker and frees its memory; the instance is unusable after. */
  close() {
    this.#worker.terminate();
    this.#failAll(new Error('this Conjure instance was closed: load a new one'));
  }

  // A Worker cannot be interrupted inside a restore: cancelling stops it,
  // which frees its memory at once, rejects what it was doing with reason,
  // and starts a fresh one that loads the same model before the next call.
  #cancel(reason) {
    this.#worker.terminate();
    this.#failAll(reason ?? new DOMException('the restore was cancelled', 'AbortError'));
    this.#attach(startWorker());
    const weights = this.#weights.slice(0);
    this.#ready = this.#post({ ...this.#load, weights }, [weights]);
    this.#ready.catch(() => {}); // the next call reports a failed reload
  }

  // on: the call's {onProgress, onPreview} listeners, if any.
  async #call(msg, transfer, on = {}) {
    await this.#ready;
    return this.#post(msg, transfer, on);
  }

  #post(msg, transfer, on = {}) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, ...on });
      this.#worker.postMessage({ ...msg, id }, transfer);
    });
  }

  #receive(msg) {
    const p = this.#pending.get(msg.id);
    if (!p) {
      return;
    }
    if (msg.progress) {
      p.onProgress?.(...msg.progress);
      return;
    }
    if (msg.preview) {
      const { pixels, width, height, step, steps } = msg.preview;
      p.onPreview?.(new ImageData(pixels, width, height), step, steps);
      return;
    }
    this.#pending.delete(msg.id);
    if (msg.info) {
      this.#info = msg.info;
    }
    if (msg.ok) {
      p.resolve(msg.value);
    } else {
      p.reject(new Error(msg.error));
    }
  }

  #failAll(err) {
    for (const p of this.#pending.values()) {
      p.reject(err);
    }
    this.#pending.clear();
  }
}

/** checkOptions throws unless task, steps and method are ones restore takes. */
function checkOptions(task, steps, method) {
  if (!TASKS.includes(task)) {
    throw new Error(`task ${JSON.stringify(task)}: use one of ${TASKS.join(', ')}`);
  }
  if (!METHODS.includes(method)) {
    throw new Error(`method ${JSON.stringify(method)}: use cpigdm or pigdm`);
  }
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) {
    throw new Error(`steps ${steps}: use a whole number from 1 to ${MAX_STEPS} (5 is the default)`);
  }
}

/** checkImage throws unless img looks like an ImageData. */
function checkImage(img, what) {
  if (!img || !(img.data instanceof Uint8ClampedArray) || img.data.length !== 4 * img.width * img.height || img.width < 1) {
    throw new Error(`${what} must be an ImageData with pixels (e.g. from canvas getImageData)`);
  }
}

/** fetchAssets reads the site's assets.json, with its URLs made absolute. */
async function fetchAssets() {
  const url = new URL('assets.json', import.meta.url);
  let a;
  try {
    const resp = await fetch(url, { cache: 'no-cache' });
    if (!resp.ok) {
      throw new Error(`HTTP ${resp.status}`);
    }
    a = await resp.json();
  } catch (err) {
    throw new Error(`could not read ${url.href} (${err.message}): check the connection and reload; if you host Conjure, build the site with \`make site\``);
  }
  const abs = (u) => new URL(u, url).href;
  const models = a.models.map((m) => ({ ...m, url: abs(m.url) }));
  return { ...a, wasm: abs(a.wasm), wasmExec: abs(a.wasmExec), kernel: abs(a.kernel), model: models[0], models };
}

/**
 * fetchModel returns the weight file at url, from the Cache API when it is
 * there, else from the network (then cached). With sha256 (lowercase hex)
 * it verifies the bytes, dropping a corrupt cached copy and downloading it
 * again once. names, the shipped models, go into the error for a URL that
 * is not there.
 */
async function fetchModel(url, sha256, names, retried = false) {
  const cache = globalThis.caches ? await caches.open(CACHE).catch(() => null) : null;
  let resp = cache ? await cache.match(url) : undefined;
  const cached = resp !== undefined;
  if (!cached) {
    try {
      resp = await fetch(url);
    } catch (err) {
      throw new Error(`could not download the model ${url} (${err.message}): check the connection and reload`);
    }
    if (!resp.ok) {
      throw new Error(`downloading the model ${url} failed (HTTP ${resp.status}): check the URL, or name a shipped model (${names.join(', ')})`);
    }
  }
  const buf = await resp.arrayBuffer();
  if (sha256) {
    if (!globalThis.crypto?.subtle) {
      throw new Error('the model cannot be verified on a page that is not secure: open the site over https (or on localhost)');
    }
    const got = hex(await crypto.subtle.digest('SHA-256', buf));
    if (got !== sha256) {
      if (cached && !retried) {
        await cache.delete(url);
        return fetchModel(url, sha256, names, true);
      }
      throw new Error(`the model ${url} is corrupt (SHA-256 ${got}, want ${sha256}): reload the page to download it again`);
    }
  }
  if (cache && !cached) {
    // Response copies buf, which is then transferred to the Worker.
    await cache.put(url, new Response(buf, { headers: { 'Content-Type': 'application/octet-stream' } })).catch(() => {});
  }
  return buf;
}

function hex(digest) {
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** workerURL is where conjure-worker.js is, beside this module. */
function workerURL() {
  return new URL('conjure-worker.js', import.meta.url);
}

/**
 * startWorker starts conjure-worker.js. A page on another origin may not
 * start a Worker from this one directly; a same-origin blob that imports the
 * script may.
 */
function startWorker() {
  const url = workerURL();
  if (url.origin === globalThis.location?.origin) {
    return new Worker(url, { name: 'conjure' });
  }
  const boot = new Blob([`importScripts(${JSON.stringify(url.href)});`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(boot), { name: 'conjure' });
}
