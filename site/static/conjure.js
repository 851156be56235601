// conjure.js: Conjure's public JavaScript API. A photo is restored on the
// visitor's own GPU (WebGPU) or, without one, on the CPU, inside a Web
// Worker; nothing is uploaded.
//
//   import { Conjure } from 'https://HOST/conjure.js';
//   const c = await Conjure.load();                       // the shipped model
//   const { image, ms, backend } = await c.restore({ task: 'sr4', input: imageData });
//
// Every URL is taken relative to this module's own URL, so the module works
// when another site imports it (the server must then allow that origin
// with CORS headers). The page, the <conjure-restore> web component and
// the browser tests all use exactly this API.

const TASKS = ['sr4', 'inpaint', 'deblur', 'gray'];
const METHODS = ['cpigdm', 'pigdm'];
const MAX_STEPS = 100; // as wasm/engine.MaxSteps
const CACHE = 'conjure-models-v1';

/** A loaded model with the Worker that runs it. */
export class Conjure {
  #worker;
  #info;
  #model;
  #next = 1;
  #pending = new Map(); // id → {resolve, reject, onProgress}
  #queue = Promise.resolve(); // restores run one at a time

  /** Use Conjure.load. */
  constructor(worker, model) {
    this.#worker = worker;
    this.#model = model;
    worker.onmessage = (e) => this.#receive(e.data);
    worker.onerror = (e) => {
      e.preventDefault?.();
      this.#failAll(`Conjure's Web Worker failed (${e.message || 'it could not start'}): reload the page; if the site sets a Content-Security-Policy, allow worker-src 'self' and script-src 'wasm-unsafe-eval'`);
    };
  }

  /**
   * Loads a model and starts the Worker that runs it, on WebGPU when the
   * browser offers an adapter, else on the CPU (info().notice says why).
   * @param {{model?: string, backend?: 'auto'|'cpu'}} [options] model: URL
   *   of a weight file (default: the shipped model, whose SHA-256 is
   *   verified); backend 'cpu' skips WebGPU.
   * @returns {Promise<Conjure>}
   */
  static async load({ model, backend = 'auto' } = {}) {
    if (backend !== 'auto' && backend !== 'cpu') {
      throw new Error(`backend ${JSON.stringify(backend)}: use 'auto' or 'cpu'`);
    }
    const assets = await fetchAssets();
    const shipped = model === undefined;
    const url = shipped ? assets.model.url : new URL(model, globalThis.location?.href ?? import.meta.url).href;
    const weights = await fetchModel(url, shipped ? assets.model.sha256 : null);
    const c = new Conjure(startWorker(), {
      name: shipped ? assets.model.name : url.split('/').pop().replace(/\.[^.]*$/, ''),
      bytes: weights.byteLength,
    });
    try {
      await c.#call({ op: 'load', wasmExec: assets.wasmExec, wasm: assets.wasm, weights, preferGPU: backend === 'auto' }, [weights]);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  /**
   * What runs the model: {backend: 'webgpu'|'cpu', adapter, model: {name,
   * resolution, bytes}, notice?} — notice says why the CPU runs.
   */
  info() {
    const i = this.#info;
    const out = {
      backend: i.backend,
      adapter: i.adapter,
      model: { name: this.#model.name, resolution: i.resolution, bytes: i.bytes },
    };
    if (i.notice) {
      out.notice = i.notice;
    }
    return out;
  }

  /**
   * Restores an image. For sr4 the input is the low-resolution image,
   * (R/4)×(R/4) with R = info().model.resolution; for the other tasks it is
   * R×R. Other sizes are centre-cropped and resized, as `conjure restore`
   * does. The result is R×R.
   * @param {{task: 'sr4'|'inpaint'|'deblur'|'gray', input: ImageData,
   *   mask?: ImageData, steps?: number, method?: 'cpigdm'|'pigdm',
   *   seed?: number, onProgress?: (done: number, total: number) => void}} o
   *   mask: inpainting only, the size of input, white = keep, black = fill.
   * @returns {Promise<{image: ImageData, ms: number, backend: 'webgpu'|'cpu'}>}
   */
  async restore({ task, input, mask, steps = 5, method = 'cpigdm', seed = 0, onProgress } = {}) {
    if (!TASKS.includes(task)) {
      throw new Error(`task ${JSON.stringify(task)}: use one of ${TASKS.join(', ')}`);
    }
    if (!METHODS.includes(method)) {
      throw new Error(`method ${JSON.stringify(method)}: use cpigdm or pigdm`);
    }
    if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) {
      throw new Error(`steps ${steps}: use a whole number from 1 to ${MAX_STEPS} (5 is the default)`);
    }
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`seed ${seed}: use a whole number ≥ 0`);
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
      task, steps, method, seed,
      width: input.width,
      height: input.height,
      pixels: new Uint8ClampedArray(input.data),
      mask: task === 'inpaint' ? new Uint8ClampedArray(mask.data) : undefined,
    };
    const transfer = [request.pixels.buffer, ...(request.mask ? [request.mask.buffer] : [])];
    const run = this.#queue.then(async () => {
      const t0 = performance.now();
      const out = await this.#call({ op: 'restore', request }, transfer, onProgress);
      return {
        image: new ImageData(out.pixels, out.size, out.size),
        ms: performance.now() - t0,
        backend: this.#info.backend,
      };
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Stops the Worker and frees its memory; the instance is unusable after. */
  close() {
    this.#worker.terminate();
    this.#failAll('this Conjure instance was closed: load a new one');
  }

  #call(msg, transfer, onProgress) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onProgress });
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

  #failAll(why) {
    for (const p of this.#pending.values()) {
      p.reject(new Error(why));
    }
    this.#pending.clear();
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
  return { ...a, wasm: abs(a.wasm), wasmExec: abs(a.wasmExec), model: { ...a.model, url: abs(a.model.url) } };
}

/**
 * fetchModel returns the weight file at url, from the Cache API when it is
 * there, else from the network (then cached). With sha256 (lowercase hex)
 * it verifies the bytes, dropping a corrupt cached copy and downloading it
 * again once.
 */
async function fetchModel(url, sha256, retried = false) {
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
      throw new Error(`downloading the model ${url} failed (HTTP ${resp.status}): check the URL, or omit model to use the shipped one`);
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
        return fetchModel(url, sha256, true);
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

/**
 * startWorker starts conjure-worker.js. A page on another origin may not
 * start a Worker from this one directly; a same-origin blob that imports the
 * script may.
 */
function startWorker() {
  const url = new URL('conjure-worker.js', import.meta.url);
  if (url.origin === globalThis.location?.origin) {
    return new Worker(url, { name: 'conjure' });
  }
  const boot = new Blob([`importScripts(${JSON.stringify(url.href)});`], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(boot), { name: 'conjure' });
}
