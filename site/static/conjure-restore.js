// conjure-restore.js: the <conjure-restore> web component, for embedding
// Conjure in any page with one tag:
//
//   <script type="module" src="https://HOST/conjure-restore.js"></script>
//   <conjure-restore task="sr4" steps="5"></conjure-restore>
//
// The visitor picks or drops a photo; it is restored on their own GPU (or
// CPU) through conjure.js, loaded from the same origin as this file.
// Nothing is uploaded anywhere.
//
// Attributes (read when Restore is pressed; model when the element starts):
//   model   photo (default: the whole photo, shrunk first to the task's
//           size limit) | face64 (the photo's centred square, 64×64)
//   task    sr4 (default) | sr2 | deblur | denoise | gray | inpaint (fills the centre box)
//   steps   5 (default) | 10 | 20 …
//   method  cpigdm (default) | pigdm
//   seed    whole number, default 0
//   src     optional URL of a photo to load at start (same origin as the
//           page, or served with CORS)
// Events (bubbling, composed):
//   conjure-progress  detail {done, total}
//   conjure-preview   detail {image: ImageData, step, steps}: the restoration
//                     as it stands after each step (shown as it arrives);
//                     the last, step === steps, is the result
//   conjure-done      detail {image: ImageData, ms, backend}
//   conjure-error     detail {message}
// Property: result — the last restored ImageData, or null.
//
// Styles live in a constructed stylesheet, so the component works under a
// Content-Security-Policy without 'unsafe-inline'.

import { Conjure } from './conjure.js';
import { cropScaled, drawNearest, gray, shrunk } from './pixels.js';

// The photo model's longest input side per task (restore.CheckSize: SR
// outputs up to 2048×2048, deblur and denoise 2048, inpaint and gray 4096).
const MAX_SIDE = { sr4: 512, sr2: 1024, deblur: 2048, denoise: 2048, inpaint: 4096, gray: 4096 };
// On the CPU, restores expected to take longer are refused, as on the page.
const CPU_LIMIT_S = 600; // ten minutes: a restore watched with a progress bar and a Cancel button

const STYLE = `
:host { display: inline-block; font: 14px/1.4 system-ui, sans-serif; color: #1d2433; }
.box { display: grid; gap: 8px; padding: 12px; border: 1px solid #d5d9e0; border-radius: 10px; background: #fff; max-width: 560px; }
.views { display: flex; gap: 8px; flex-wrap: wrap; }
canvas { width: 256px; height: auto; image-rendering: pixelated; background: #eef0f4; border-radius: 4px; }
.row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
label.pick { border: 2px dashed #c5cad3; border-radius: 8px; padding: 10px; cursor: pointer; text-align: center; }
label.pick.over { border-color: #3557d4; }
input[type=file] { position: absolute; opacity: 0; width: 1px; height: 1px; }
button { font: inherit; padding: 4px 12px; border-radius: 6px; border: 1px solid #3557d4; background: #3557d4; color: #fff; cursor: pointer; }
button:disabled { opacity: .5; cursor: not-allowed; }
a { color: #3557d4; }
progress { flex: 1; min-width: 120px; }
.status { color: #5b6475; min-height: 1.4em; }
.status.error { color: #c62828; }
[hidden] { display: none !important; }
`;

const TEMPLATE = `
<div class="box" part="box">
  <label class="pick" part="pick"><input type="file" accept="image/*"> Drop or pick a photo to restore</label>
  <div class="views">
    <canvas class="before" aria-label="Before"></canvas>
    <canvas class="after" aria-label="After"></canvas>
  </div>
  <div class="row">
    <button type="button" class="run" disabled>Restore</button>
    <progress value="0" max="1"></progress>
    <a class="download" download="conjure.png" hidden>Download PNG</a>
  </div>
  <div class="status" role="status" aria-live="polite">Loading…</div>
</div>
`;

let sheet = null; // one constructed stylesheet shared by every instance
const shared = new Map(); // model name → Promise<Conjure>: one model and Worker per page

function conjure(model) {
  if (!shared.has(model)) shared.set(model, Conjure.load({ model }));
  return shared.get(model);
}

class ConjureRestore extends HTMLElement {
  #root;
  #photo = null;
  #busy = false;
  #model = null;
  #wired = false;
  result = null;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
    }
    this.#root.adoptedStyleSheets = [sheet];
    this.#root.innerHTML = TEMPLATE;
  }

  connectedCallback() {
    // Moving the element in the document connects it again; wire it once.
    if (this.#wired) return;
    this.#wired = true;
    const $ = (sel) => this.#root.querySelector(sel);
    const pick = $('.pick');
    $('input').addEventListener('change', (e) => this.#open(e.target.files[0]));
    pick.addEventListener('dragover', (e) => { e.preventDefault(); pick.classList.add('over'); });
    pick.addEventListener('dragleave', () => pick.classList.remove('over'));
    pick.addEventListener('drop', (e) => {
      e.preventDefault();
      pick.classList.remove('over');
      this.#open(e.dataTransfer.files[0]);
    });
    $('.run').addEventListener('click', () => this.#restore());
    conjure(this.getAttribute('model') || 'photo').then((c) => {
      this.#model = c;
      const i = c.info();
      this.#status(i.backend === 'cpu'
        ? `Ready on the CPU (slower): ${i.notice || 'this browser offers no WebGPU adapter.'}`
        : `Ready on WebGPU${i.adapter ? ` (${i.adapter})` : ''}.`);
      this.#update();
    }, (err) => this.#fail(`Conjure could not start: ${err.message}`));
    const src = this.getAttribute('src');
    if (src) {
      fetch(new URL(src, document.baseURI))
        .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(`HTTP ${r.status}`))))
        .then((b) => this.#open(b), (err) => this.#fail(`Could not load ${src}: ${err.message}`));
    }
  }

  #status(text, error = false) {
    const s = this.#root.querySelector('.status');
    s.textContent = text;
    s.classList.toggle('error', error);
  }

  #fail(message) {
    this.#status(message, true);
    this.dispatchEvent(new CustomEvent('conjure-error', { detail: { message }, bubbles: true, composed: true }));
  }

  #update() {
    this.#root.querySelector('.run').disabled = this.#busy || !this.#model || !this.#photo;
  }

  async #open(file) {
    if (!file) return;
    try {
      this.#photo = await createImageBitmap(file);
    } catch (err) {
      this.#fail(`This browser cannot read that file as an image (${err.message}): try a JPEG or PNG.`);
      return;
    }
    this.#status('Press Restore.');
    this.#update();
  }

  // The inputs of task: {input, mask, before}. A framed model takes the
  // photo's centred square at its resolution r; the photo model the whole
  // photo, shrunk to the task's limit.
  #inputs(task, framed, r) {
    const p = this.#photo;
    let input;
    if (framed) {
      const size = Math.min(p.width, p.height);
      const region = { x: (p.width - size) / 2, y: (p.height - size) / 2, size };
      if (task === 'sr4' || task === 'sr2') {
        input = cropScaled(p, region, r / (task === 'sr4' ? 4 : 2));
        return { input, before: input };
      }
      input = cropScaled(p, region, r);
    } else {
      if (!MAX_SIDE[task]) throw new Error(`task ${JSON.stringify(task)}: use sr4, sr2, deblur, denoise, gray or inpaint`);
      input = shrunk(p, MAX_SIDE[task]);
    }
    if (task === 'gray') return { input, before: gray(input) };
    if (task !== 'inpaint') return { input, before: input };
    // The centre box over a quarter of the area, as `conjure restore --simulate`.
    const { width: w, height: h } = input;
    const mask = new ImageData(w, h);
    const before = new ImageData(new Uint8ClampedArray(input.data), w, h);
    const x0 = Math.floor(w / 4);
    const y0 = Math.floor(h / 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = 4 * (y * w + x);
        const hole = y >= y0 && y < h - y0 && x >= x0 && x < w - x0;
        mask.data.fill(hole ? 0 : 255, i, i + 3);
        mask.data[i + 3] = 255;
        if (hole) before.data.fill(128, i, i + 3);
      }
    }
    return { input, mask, before };
  }

  async #restore() {
    if (this.#busy || !this.#model || !this.#photo) return;
    const task = this.getAttribute('task') || 'sr4';
    const steps = Number(this.getAttribute('steps') || 5);
    const method = this.getAttribute('method') || 'cpigdm';
    const seed = Number(this.getAttribute('seed') || 0);
    const { model } = this.#model.info();
    const $ = (sel) => this.#root.querySelector(sel);
    this.#busy = true;
    this.#update();
    let job;
    let plan;
    try {
      job = this.#inputs(task, model.framed, model.resolution);
      plan = await this.#model.plan({ task, steps, method, width: job.input.width, height: job.input.height });
      if (plan.backend === 'cpu' && plan.seconds > CPU_LIMIT_S) {
        throw new Error(`on the CPU this would take about ${Math.round(plan.seconds / 60)} minutes: use fewer steps or a smaller photo, or a browser with WebGPU`);
      }
    } catch (err) {
      this.#fail(`Could not restore this photo: ${err.message}`);
      this.#busy = false;
      this.#update();
      return;
    }
    const before = $('.before');
    before.width = plan.width;
    before.height = plan.height;
    drawNearest(before, job.before);
    const after = $('.after');
    const show = (image) => {
      after.width = image.width;
      after.height = image.height;
      after.getContext('2d').putImageData(image, 0, 0);
    };
    const bar = $('progress');
    bar.max = plan.tileSteps;
    bar.value = 0;
    this.#status(`Restoring: 0 of ${plan.tileSteps} tile-steps…`);
    try {
      const out = await this.#model.restore({
        task, steps, method, seed, input: job.input, mask: job.mask,
        onProgress: (done, total) => {
          bar.max = total;
          bar.value = done;
          this.#status(`Restoring: ${done} of ${total} tile-steps…`);
          this.dispatchEvent(new CustomEvent('conjure-progress', { detail: { done, total }, bubbles: true, composed: true }));
        },
        onPreview: (image, step, steps) => {
          show(image);
          this.dispatchEvent(new CustomEvent('conjure-preview', { detail: { image, step, steps }, bubbles: true, composed: true }));
        },
      });
      this.result = out.image;
      show(out.image);
      this.#status(`Restored ${out.image.width}×${out.image.height} in ${Math.round(out.ms)} ms on ${out.backend}.`);
      const link = $('.download');
      after.toBlob((blob) => {
        if (!blob) return;
        if (link.href) URL.revokeObjectURL(link.href);
        link.href = URL.createObjectURL(blob);
        link.hidden = false;
      }, 'image/png');
      this.dispatchEvent(new CustomEvent('conjure-done', { detail: out, bubbles: true, composed: true }));
    } catch (err) {
      this.#fail(`Restoring failed: ${err.message}`);
    } finally {
      this.#busy = false;
      this.#update();
    }
  }
}

if (!customElements.get('conjure-restore')) {
  customElements.define('conjure-restore', ConjureRestore);
}
