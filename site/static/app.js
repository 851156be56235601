// app.js: Conjure's page. The user brings a photo (drop, paste or pick),
// picks a model, a task and its settings, and restores it through the
// public API of conjure.js; the model runs in conjure.js's Web Worker, so
// the page never blocks.
//
// Two work surfaces, one per kind of model:
//   photo model (the default): the whole photo at full resolution, zoomed
//     and panned in #view; the brush paints on the photo itself; the result
//     has the task's output size (sr4 4W×4H, sr2 2W×2H, others W×H).
//   face model: a square framed on the photo (#frame), restored at the
//     model's R×R (#source, with the brush layer #mask over it).
//
// Element ids for automated UI tests (each also has data-testid = its id):
//   #file        <input type=file>: the photo (any size browsers decode)
//   #drop        drop zone around #file; paste works anywhere on the page
//   #model       <select>: photo | face64 (switching loads that model)
//   #view        <canvas>: photo model: the photo (wheel zooms, drag pans or paints)
//   #view-zoom   <input type=range 0..1000>: its zoom (0 = fit, or 1:1 for small photos)
//   #view-fit #view-1to1  zoom buttons; #tool-pan #tool-brush  <input type=radio> (inpainting)
//   #frame       <canvas>: face model: the photo with the square to restore (drag moves it, wheel resizes)
//   #zoom        <input type=range 0..1000>: frame size (1000 = largest centred square, the default)
//   #source      <canvas R×R>: face model: the framed region at the model's resolution R
//   #mask        <canvas R×R>: face model: the brush layer over #source; paint = fill
//   #task        <select>: sr4 | sr2 | inpaint | deblur | denoise | gray
//   #steps       <select>: 1 | 2 | 5 | 10 | 20
//   #method      <select>: cpigdm | pigdm (the C-ΠGDM vs ΠGDM switch)
//   #seed        <input type=number>: noise seed (default 0)
//   #brush-size  <input type=range>: brush diameter in pixels of what is painted
//                (photo pixels for the photo model, model pixels for the face model)
//   #undo #clear #mask-box  brush buttons; #mask-box paints the centre box
//                (rows [H/4, H − H/4), columns [W/4, W − W/4)), as `conjure restore --simulate`
//   #estimate    text: output size, tiles × steps, and on the CPU the expected time
//   #run         <button>: enabled once a model is loaded and a photo is open (and,
//                on the CPU, the restore would take under CPU_LIMIT_S)
//   #cancel      <button>: enabled while a restore runs; stops it (its Worker is
//                restarted) and leaves the page ready
//   #progress    <progress>: max = tile-steps (tiles × steps), value = done (from onProgress)
//   #status      text: "Loading the model…", then "Ready · …", then
//                "Restored W×H in N ms on BACKEND (ADAPTER) · …", or the error
//   #notice      shown (not hidden) when the backend is 'cpu', with the reason
//   #compare     the before/after view over the whole result; #before and #result
//                <canvas> at the output's size (#result readable with getImageData;
//                while a restore runs it shows each step's preview)
//   #split       <input type=range 0..100>: before/after divider
//   #enlarge     <button aria-pressed>: pixel-exact enlarged view (1:1 for large results)
//   #download    <button>: saves #result as a full-resolution PNG
// document.body.dataset.state is 'loading', 'ready', 'running', 'done' or 'error';
// document.body.dataset.mode is 'photo' or 'framed'. The address /?backend=cpu
// runs the model on the CPU even where WebGPU works; /?backend=webgpu uses
// WebGPU even on a software fallback adapter (SwiftShader), which the
// default leaves for the faster CPU path.

import { Conjure } from './conjure.js';
import { Framer } from './frame.js';
import { Brush } from './brush.js';
import { PhotoView } from './view.js';
import { cropScaled, drawNearest, gray, holes, imageDataOf } from './pixels.js';

// The CPU fallback refuses restores it expects to take longer than this.
const CPU_LIMIT_S = 600; // ten minutes: a restore watched with a progress bar and a Cancel button
const BACKEND = ['cpu', 'webgpu'].find((b) => b === new URLSearchParams(location.search).get('backend')) ?? 'auto';

const $ = (id) => document.getElementById(id);
const el = {
  file: $('file'), drop: $('drop'), model: $('model'),
  viewer: $('viewer'), view: $('view'), viewZoom: $('view-zoom'), viewFit: $('view-fit'), view1to1: $('view-1to1'),
  tools: $('tools'), toolPan: $('tool-pan'), toolBrush: $('tool-brush'),
  framer: $('framer'), frame: $('frame'), zoom: $('zoom'),
  task: $('task'), steps: $('steps'), method: $('method'), seed: $('seed'),
  modelInput: $('model-input'), hint: $('input-hint'), source: $('source'), mask: $('mask'),
  brushTools: $('brush-tools'), brushSize: $('brush-size'), undo: $('undo'), clear: $('clear'), maskBox: $('mask-box'),
  estimate: $('estimate'), run: $('run'), cancel: $('cancel'), progress: $('progress'), status: $('status'), notice: $('notice'),
  compare: $('compare'), before: $('before'), result: $('result'),
  split: $('split'), enlarge: $('enlarge'), download: $('download'),
};

const TASK_NAMES = {
  sr4: '4× super-resolution', sr2: '2× super-resolution', inpaint: 'inpainting',
  deblur: 'deblurring', denoise: 'denoising', gray: 'colourisation',
};

// What the model sees, per task: for the whole photo (w×h) and for a frame (r×r).
const HINTS = {
  photo: {
    sr4: (w, h) => `The whole photo (${w}×${h}) is the low-resolution input; the result is ${4 * w}×${4 * h}.`,
    sr2: (w, h) => `The whole photo (${w}×${h}) is the low-resolution input; the result is ${2 * w}×${2 * h}.`,
    inpaint: () => 'Choose the brush and paint over what to fill, on the photo above (zoom in for detail), or press Centre box.',
    deblur: (w, h) => `The whole photo (${w}×${h}), treated as blurred (Gaussian, σ = 1.5 px).`,
    denoise: (w, h) => `The whole photo (${w}×${h}), treated as noisy (σ = 0.05).`,
    gray: (w, h) => `The whole photo (${w}×${h}) in grey; its colours are restored, its brightness kept.`,
  },
  framed: {
    sr4: (r) => `What the model sees: your frame reduced to ${r / 4}×${r / 4}; it restores ${r}×${r}.`,
    sr2: (r) => `What the model sees: your frame reduced to ${r / 2}×${r / 2}; it restores ${r}×${r}.`,
    inpaint: (r) => `Paint over what to fill (${r}×${r}), or press Centre box.`,
    deblur: (r) => `What the model sees: your frame at ${r}×${r}, treated as blurred (Gaussian, σ = 1.5 px).`,
    denoise: (r) => `What the model sees: your frame at ${r}×${r}, treated as noisy (σ = 0.05).`,
    gray: (r) => `What the model sees: your frame at ${r}×${r} in grey; it restores the colours.`,
  },
};

let conjure = null; // the loaded Conjure, once load resolves
let loading = null; // the model name being loaded
let framedMode = false; // the model is framed (face) rather than whole-photo
let resolution = 64; // R, replaced by the model's own once loaded
let photo = null; // the ImageBitmap the user opened
let photoData = null; // its pixels (ImageData), the photo model's input
let framed = null; // face model: ImageData R×R of the framed region
let busy = false;
let plan = null; // the latest conjure.plan for the current settings, or null
let planError = ''; // why the current settings cannot run, or ''
let planSeq = 0; // ignores plans answered after the settings changed again
let largeView = false;

const photoLayer = document.createElement('canvas'); // the photo model's paint layer
const photoBrush = new Brush(photoLayer, el.brushSize, () => { view.draw(); updateRun(); });
const view = new PhotoView(el.view, el.viewZoom, photoBrush);
const framer = new Framer(el.frame, el.zoom, () => updateSource());
const frameBrush = new Brush(el.mask, el.brushSize, () => updateRun());
frameBrush.attach(el.mask, (e) => {
  const box = el.mask.getBoundingClientRect();
  return { x: (e.clientX - box.left) * el.mask.width / box.width, y: (e.clientY - box.top) * el.mask.height / box.height };
});

const brush = () => (framedMode ? frameBrush : photoBrush);

function setState(state) {
  document.body.dataset.state = state;
}

function setStatus(text, isError = false) {
  el.status.textContent = text;
  el.status.classList.toggle('error', isError);
}

function updateRun() {
  const ready = framedMode ? framed : photoData;
  el.run.disabled = busy || !conjure || !ready || planError !== '';
}

// Shows the surface and tools of the model and task, and redraws what the
// model is given.
function updateSource() {
  const task = el.task.value;
  const painting = task === 'inpaint';
  document.body.dataset.mode = framedMode ? 'framed' : 'photo';
  el.viewer.hidden = framedMode || !photo;
  el.framer.hidden = !framedMode || !photo;
  el.modelInput.hidden = !framedMode;
  el.brushTools.hidden = !painting;
  el.tools.hidden = framedMode || !painting;
  if (!painting && !framedMode) setTool('pan');
  if (framedMode) {
    const r = resolution;
    for (const c of [el.source, el.mask]) {
      if (c.width !== r) {
        c.width = r;
        c.height = r;
      }
    }
    frameBrush.resize(r);
    el.mask.hidden = !painting;
    el.modelInput.classList.toggle('painting', painting);
    el.hint.textContent = HINTS.framed[task](r);
    if (photo && framer.region) {
      framed = cropScaled(photo, framer.region, r);
      drawNearest(el.source, modelView(task, framed));
    }
  } else {
    el.hint.textContent = photo ? HINTS.photo[task](photo.width, photo.height) : 'Open a photo first.';
  }
  updatePlan();
  updateRun();
}

// The brush's diameter is in pixels of what it paints: up to 16 of the
// face model's R×R, up to an eighth of the photo's longer side.
function setBrushRange() {
  const long = photo ? Math.max(photo.width, photo.height) : 64;
  const max = framedMode ? 16 : Math.max(16, Math.round(long / 8));
  const value = framedMode ? 4 : Math.max(4, Math.round(long / 60));
  el.brushSize.max = String(max);
  el.brushSize.value = String(value);
}

function setTool(tool) {
  el.toolPan.checked = tool === 'pan';
  el.toolBrush.checked = tool === 'brush';
  view.setTool(tool);
}

// The picture of what the face model is given for task, at R×R.
function modelView(task, image) {
  switch (task) {
    case 'sr4':
    case 'sr2':
      return lowRes(task);
    case 'gray':
      return gray(image);
    default:
      return image;
  }
}

// The reduction of the framed region that SR takes: (R/4)² or (R/2)². It is
// cut from the photo itself, not from the R×R copy, so it is one good reduction.
function lowRes(task) {
  return cropScaled(photo, framer.region, resolution / (task === 'sr4' ? 4 : 2));
}

// Asks conjure.js what the current settings would take, to show it and,
// on the CPU, to refuse what would take more than CPU_LIMIT_S.
async function updatePlan() {
  const seq = ++planSeq;
  plan = null;
  planError = '';
  if (!conjure || !photo) {
    el.estimate.textContent = '';
    return;
  }
  const steps = Number(el.steps.value);
  const size = framedMode ? { width: resolution, height: resolution } : { width: photo.width, height: photo.height };
  let p;
  try {
    p = await conjure.plan({ task: el.task.value, steps, method: el.method.value, ...size });
  } catch (err) {
    if (seq !== planSeq) return;
    planError = err.message;
    el.estimate.textContent = `This photo cannot be restored with these settings: ${err.message}`;
    el.estimate.classList.add('error');
    updateRun();
    return;
  }
  if (seq !== planSeq) return;
  plan = p;
  // Inpainting restores a window around the holes: the plan is its bound.
  const upTo = el.task.value === 'inpaint' && !framedMode ? 'up to ' : '';
  const work = `${upTo}${count(p.tiles, 'tile')} × ${count(steps, 'step')}`;
  const parts = [`Result ${p.width}×${p.height}`, work];
  if (p.seconds > 0) parts.push(`${upTo ? 'at most' : 'about'} ${duration(p.seconds)} on ${p.backend === 'cpu' ? cpuWhere() : 'WebGPU'}`);
  let text = parts.join(' · ');
  if (p.backend === 'cpu' && p.seconds > CPU_LIMIT_S) {
    planError = `on the CPU this would take about ${duration(p.seconds)}`;
    text = `On the CPU this restore would take ${upTo ? 'up to' : 'about'} ${duration(p.seconds)} (${work}), over the ${duration(CPU_LIMIT_S)} limit, so it is not started: ` +
      'choose fewer steps, another task or a smaller photo, or open Conjure in a browser with WebGPU.';
  }
  el.estimate.textContent = text;
  el.estimate.classList.toggle('error', planError !== '');
  updateRun();
}

// cpuWhere names the CPU path with the cores it runs on.
function cpuWhere() {
  const n = conjure?.info().threads ?? 1;
  return `the CPU (${count(n, 'core')})`;
}

function count(n, what) {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function duration(s) {
  if (s < 1) return 'a second';
  if (s < 90) return `${Math.round(s)} s`;
  return `${Math.round(s / 60)} minutes`;
}

async function openPhoto(file) {
  if (!file) return;
  if (!file.type.startsWith('image/') && file.type !== '') {
    setStatus(`${file.name} is not an image (${file.type}): choose a JPEG, PNG or WebP photo.`, true);
    return;
  }
  try {
    // No colour-space conversion, as `conjure restore` reads the file's
    // own pixel values.
    photo = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (err) {
    setStatus(`This browser cannot read ${file.name || 'the pasted image'} as an image (${err.message}): try a JPEG or PNG.`, true);
    return;
  }
  photoData = imageDataOf(photo);
  photoLayer.width = 0; // a new photo, a new paint layer, even at the same size
  photoBrush.resize(photo.width, photo.height);
  setBrushRange();
  framer.setImage(photo);
  el.viewer.hidden = framedMode;
  view.setImage(photo, photoLayer);
  updateSource();
  if (conjure) setStatus(readyText());
}

function readyText() {
  const i = conjure.info();
  const where = i.backend === 'webgpu' ? `WebGPU${i.adapter ? ` (${i.adapter})` : ''}` : cpuWhere();
  const what = i.model.framed ? `${i.model.resolution}×${i.model.resolution} frame` : `whole photos, ${i.model.resolution}×${i.model.resolution} tiles`;
  const next = !photo ? 'Drop, paste or pick a photo.' : framedMode ? 'Frame the face and press Restore.' : 'Choose a task and press Restore.';
  return `Ready · model ${i.model.name} (${what}) on ${where}. ${next}`;
}

// The CPU notice: conjure.js's own reason when it gives one (it names the
// cause and what to do), else a general one.
function showNotice(info) {
  if (info.backend !== 'cpu') {
    el.notice.hidden = true;
    return;
  }
  el.notice.textContent = info.notice
    ? `${info.notice} The result is the same as on a GPU, using ${count(info.threads || 1, 'core')}; photos that would take more than ${duration(CPU_LIMIT_S)} are refused.`
    : 'This browser offers no WebGPU adapter, so Conjure runs on the CPU: much slower, with the same result. ' +
      'For speed, use a browser with WebGPU enabled (a recent Chrome or Edge, or Safari or Firefox with WebGPU turned on).';
  el.notice.hidden = false;
}

// The job of the current settings: {input, mask, before}, before being
// what the result is compared with, drawn at the result's size.
function job(task) {
  const b = brush();
  if (task === 'inpaint' && b.isEmpty()) {
    throw new Error('Paint over the part to fill first (choose the brush), or press Centre box.');
  }
  if (framedMode) {
    if (task === 'sr4' || task === 'sr2') {
      const input = lowRes(task);
      return { input, before: input };
    }
    if (task === 'inpaint') {
      const mask = b.mask();
      return { input: framed, mask, before: holes(framed, mask) };
    }
    return { input: framed, before: modelView(task, framed) };
  }
  if (task === 'inpaint') {
    const mask = b.mask();
    return { input: photoData, mask, before: holes(photoData, mask) };
  }
  return { input: photoData, before: task === 'gray' ? gray(photoData) : photoData };
}

async function restore() {
  if (!conjure || busy) return;
  const task = el.task.value;
  const steps = Number(el.steps.value);
  let j;
  try {
    j = job(task);
  } catch (err) {
    setStatus(err.message, true);
    setState('error');
    return;
  }
  busy = true;
  updateRun();
  setState('running');
  const abort = new AbortController();
  el.cancel.disabled = false;
  el.cancel.onclick = () => abort.abort(new DOMException('cancelled', 'AbortError'));
  el.progress.max = plan?.tileSteps ?? steps;
  el.progress.value = 0;
  setStatus('Restoring…');
  const t0 = performance.now();
  let shown = 0; // the step whose preview the result area shows
  try {
    const out = await conjure.restore({
      task, input: j.input, mask: j.mask, steps, signal: abort.signal,
      method: el.method.value,
      seed: Number(el.seed.value) || 0,
      onProgress: (done, total) => {
        el.progress.max = total;
        el.progress.value = done;
        const left = (performance.now() - t0) / 1000 * (total - done) / done;
        setStatus(`Restoring: ${done} of ${total} tile-steps${done < total ? `, about ${duration(left)} left` : ''}` +
          `${shown ? ` · below, the restoration as it stands after step ${shown} of ${steps}` : ''}…`);
      },
      // The restoration as it stands after each step, so that a long
      // restore is watched rather than waited for.
      onPreview: (image, step) => {
        shown = step;
        showResult(image, j.before);
      },
    });
    showResult(out.image, j.before);
    const adapter = conjure.info().adapter;
    setStatus(`Restored ${out.image.width}×${out.image.height} in ${Math.round(out.ms)} ms on ${out.backend}${adapter ? ` (${adapter})` : ''} · ` +
      `${TASK_NAMES[task]}, ${count(steps, 'step')}, ${el.method.selectedOptions[0].text}.`);
    el.download.disabled = false;
    setState('done');
  } catch (err) {
    if (err.name === 'AbortError') {
      el.progress.value = 0;
      setStatus(`Cancelled. ${readyText()}`);
      setState('ready');
    } else {
      setStatus(`Restoring failed: ${err.message}`, true);
      setState('error');
    }
  } finally {
    el.cancel.disabled = true;
    el.cancel.onclick = null;
    busy = false;
    updatePlan(); // the CPU's estimate is refined by the restore just run
    updateRun();
  }
}

// Shows the result at its size over the before image, enlarged to it
// pixel by pixel.
function showResult(image, before) {
  for (const c of [el.before, el.result]) {
    c.width = image.width;
    c.height = image.height;
  }
  drawNearest(el.before, before);
  el.result.getContext('2d').putImageData(image, 0, 0);
  el.compare.hidden = false;
  layoutCompare();
}

// Sizes the before/after view: fitted to the page (small results enlarged
// to at least 256 px), or in the enlarged view one result pixel per screen
// pixel when fitting shrinks it, else a whole multiple of it.
function layoutCompare() {
  const w = el.result.width;
  const h = el.result.height;
  const room = el.compare.parentElement.clientWidth;
  const fit = Math.min(room, Math.max(w, 256));
  let shown = fit;
  if (largeView) {
    const oneToOne = w / devicePixelRatio;
    shown = oneToOne > fit ? oneToOne : oneToOne * Math.ceil(2 * fit / oneToOne);
  }
  el.compare.style.width = `${shown}px`;
  el.compare.style.height = `${shown * h / w}px`;
}

function download() {
  el.result.toBlob((blob) => {
    if (!blob) {
      setStatus('Could not encode the result as PNG.', true);
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `conjure-${el.task.value}-${el.result.width}x${el.result.height}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
}

// Loads the model name, replacing the one loaded.
async function loadModel(name) {
  loading = name;
  setState('loading');
  setStatus('Loading the model…');
  conjure?.close();
  conjure = null;
  updateRun();
  try {
    const c = await Conjure.load({ model: name, backend: BACKEND });
    if (loading !== name) {
      c.close();
      return;
    }
    conjure = c;
    const info = c.info();
    resolution = info.model.resolution;
    framedMode = info.model.framed;
    setBrushRange();
    showNotice(info);
    setStatus(readyText());
    setState('ready');
    updateSource();
  } catch (err) {
    if (loading !== name) return;
    setStatus(`Conjure could not start: ${err.message}`, true);
    setState('error');
  }
}

function firstImage(items) {
  for (const item of items ?? []) {
    if (item.kind === 'file' && item.type.startsWith('image/')) return item.getAsFile();
  }
  return null;
}

el.file.addEventListener('change', () => openPhoto(el.file.files[0]));
el.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  el.drop.classList.add('over');
});
el.drop.addEventListener('dragleave', () => el.drop.classList.remove('over'));
el.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  el.drop.classList.remove('over');
  openPhoto(e.dataTransfer.files[0]);
});
document.addEventListener('paste', (e) => {
  const file = firstImage(e.clipboardData?.items);
  if (file) {
    e.preventDefault();
    openPhoto(file);
  }
});
el.model.addEventListener('change', () => loadModel(el.model.value));
el.task.addEventListener('change', () => {
  if (el.task.value === 'inpaint' && !framedMode) setTool('brush');
  updateSource();
});
el.steps.addEventListener('change', updatePlan);
el.method.addEventListener('change', updatePlan);
el.toolPan.addEventListener('change', () => setTool('pan'));
el.toolBrush.addEventListener('change', () => setTool('brush'));
el.viewFit.addEventListener('click', () => view.fit());
el.view1to1.addEventListener('click', () => view.actualSize());
el.undo.addEventListener('click', () => brush().undo());
el.clear.addEventListener('click', () => brush().clear());
el.maskBox.addEventListener('click', () => brush().box());
el.run.addEventListener('click', restore);
el.split.addEventListener('input', () => el.compare.style.setProperty('--split', `${el.split.value}%`));
el.enlarge.addEventListener('click', () => {
  largeView = !largeView;
  el.enlarge.setAttribute('aria-pressed', String(largeView));
  el.compare.parentElement.classList.toggle('large', largeView);
  layoutCompare();
});
el.download.addEventListener('click', download);
addEventListener('resize', () => {
  if (!el.compare.hidden) layoutCompare();
});

// Offline after the first visit: the service worker precaches the site.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((err) => {
    console.warn(`conjure: offline use is off, the service worker did not register: ${err.message}`);
  });
}

updateSource();
loadModel(el.model.value);
