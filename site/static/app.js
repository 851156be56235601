// app.js: Conjure's page. The user brings a photo (drop, paste or pick),
// frames a square region, picks a task and restores it through the public
// API of conjure.js; the model runs in conjure.js's Web Worker, so the page
// never blocks.
//
// Element ids for automated UI tests (each also has data-testid = its id):
//   #file        <input type=file>: the photo (any size browsers decode)
//   #drop        drop zone around #file; paste works anywhere on the page
//   #frame       <canvas>: the photo with the square to restore (drag moves it, wheel resizes)
//   #zoom        <input type=range 0..1000>: frame size (1000 = largest centred square, the default)
//   #task        <select>: sr4 | inpaint | deblur | gray
//   #steps       <select>: 5 | 10 | 20
//   #method      <select>: cpigdm | pigdm (the C-ΠGDM vs ΠGDM switch)
//   #seed        <input type=number>: noise seed (default 0)
//   #source      <canvas R×R>: the framed region at the model's resolution R
//   #mask        <canvas R×R>: the inpainting brush layer over #source; paint = fill
//   #brush-size  <input type=range 1..16>: brush diameter in model pixels
//   #undo #clear #mask-box  brush buttons; #mask-box paints the centre box
//                (rows and columns [R/4, R − R/4)), as `conjure restore --simulate`
//   #run         <button>: enabled once the model is loaded and a photo is framed
//   #progress    <progress>: max = steps, value = steps done (from onProgress)
//   #status      text: "Loading the model…", then "Ready · …", then
//                "Restored in N ms on BACKEND (ADAPTER) · …", or the error
//   #notice      shown (not hidden) when the backend is 'cpu', with the reason
//   #before      <canvas R×R>: what the model was given, enlarged
//   #result      <canvas R×R>: the restored image (readable with getImageData)
//   #split       <input type=range 0..100>: before/after divider
//   #enlarge     <button aria-pressed>: larger pixelated view
//   #download    <button>: saves #result as PNG
// document.body.dataset.state is 'loading', 'ready', 'running', 'done' or 'error'.

import { Conjure } from './conjure.js';
import { Framer } from './frame.js';
import { Brush } from './brush.js';
import { cropScaled, drawNearest, gray, holes } from './pixels.js';

const $ = (id) => document.getElementById(id);
const el = {
  file: $('file'), drop: $('drop'), framer: $('framer'), frame: $('frame'), zoom: $('zoom'),
  task: $('task'), steps: $('steps'), method: $('method'), seed: $('seed'),
  modelInput: $('model-input'), hint: $('input-hint'), source: $('source'), mask: $('mask'),
  brushTools: $('brush-tools'), brushSize: $('brush-size'), undo: $('undo'), clear: $('clear'), maskBox: $('mask-box'),
  run: $('run'), progress: $('progress'), status: $('status'), notice: $('notice'),
  compare: $('compare'), before: $('before'), result: $('result'),
  split: $('split'), enlarge: $('enlarge'), download: $('download'),
};

const HINTS = {
  sr4: (r) => `What the model sees: your frame reduced to ${r / 4}×${r / 4}; it restores ${r}×${r}.`,
  inpaint: (r) => `Paint over what to fill (${r}×${r}), or press Centre box.`,
  deblur: (r) => `What the model sees: your frame at ${r}×${r}, treated as blurred (Gaussian, σ = 1.5 px).`,
  gray: (r) => `What the model sees: your frame at ${r}×${r} in grey; it restores the colours.`,
};

let conjure = null; // the loaded Conjure, once load resolves
let resolution = 64; // R, replaced by the model's own once loaded
let photo = null; // the ImageBitmap being framed
let framed = null; // ImageData R×R of the framed region
let busy = false;

const framer = new Framer(el.frame, el.zoom, () => updateSource());
const brush = new Brush(el.mask, el.brushSize, () => updateRun());

function setState(state) {
  document.body.dataset.state = state;
}

function setStatus(text, isError = false) {
  el.status.textContent = text;
  el.status.classList.toggle('error', isError);
}

function updateRun() {
  el.run.disabled = busy || !conjure || !framed;
}

// Redraws #source from the frame and shows the tools of the chosen task.
function updateSource() {
  const task = el.task.value;
  const r = resolution;
  for (const c of [el.source, el.before, el.result]) {
    if (c.width !== r) {
      c.width = r;
      c.height = r;
    }
  }
  brush.resize(r);
  const painting = task === 'inpaint';
  el.brushTools.hidden = !painting;
  el.mask.hidden = !painting;
  el.modelInput.classList.toggle('painting', painting);
  el.hint.textContent = HINTS[task](r);
  if (photo && framer.region) {
    framed = cropScaled(photo, framer.region, r);
    drawNearest(el.source, modelView(task, framed));
  }
  updateRun();
}

// The picture of what the model is given for task, at R×R.
function modelView(task, image) {
  switch (task) {
    case 'sr4':
      return lowRes();
    case 'gray':
      return gray(image);
    default:
      return image;
  }
}

// The (R/4)×(R/4) reduction of the framed region: the sr4 input. It is cut
// from the photo itself, not from the R×R copy, so it is one good reduction.
function lowRes() {
  return cropScaled(photo, framer.region, resolution / 4);
}

async function openPhoto(file) {
  if (!file) return;
  if (!file.type.startsWith('image/') && file.type !== '') {
    setStatus(`${file.name} is not an image (${file.type}): choose a JPEG, PNG or WebP photo.`, true);
    return;
  }
  try {
    photo = await createImageBitmap(file);
  } catch (err) {
    setStatus(`This browser cannot read ${file.name || 'the pasted image'} as an image (${err.message}): try a JPEG or PNG.`, true);
    return;
  }
  el.framer.hidden = false;
  framer.setImage(photo);
  if (conjure) setStatus(readyText());
}

function readyText() {
  const i = conjure.info();
  const where = i.backend === 'webgpu' ? `WebGPU${i.adapter ? ` (${i.adapter})` : ''}` : 'the CPU';
  const next = photo ? 'Frame the face and press Restore.' : 'Drop, paste or pick a photo.';
  return `Ready · model ${i.model.name} (${i.model.resolution}×${i.model.resolution}) on ${where}. ${next}`;
}

// The CPU notice: conjure.js's own reason when it gives one (it names the
// cause and what to do), else a general one.
function showNotice(info) {
  if (info.backend !== 'cpu') {
    el.notice.hidden = true;
    return;
  }
  el.notice.textContent = info.notice
    ? `${info.notice} The result is the same as on a GPU.`
    : 'This browser offers no WebGPU adapter, so Conjure runs on the CPU: much slower, with the same result. ' +
      'For speed, use a browser with WebGPU enabled (a recent Chrome or Edge, or Safari or Firefox with WebGPU turned on).';
  el.notice.hidden = false;
}

async function restore() {
  if (!conjure || !framed || busy) return;
  const task = el.task.value;
  const steps = Number(el.steps.value);
  let input = framed;
  let mask;
  let before;
  if (task === 'sr4') {
    input = lowRes();
    before = input;
  } else if (task === 'inpaint') {
    if (brush.isEmpty()) {
      setStatus('Paint over the part to fill first, or press Centre box.', true);
      return;
    }
    mask = brush.mask();
    before = holes(input, mask);
  } else {
    before = modelView(task, input);
  }
  busy = true;
  updateRun();
  setState('running');
  el.progress.max = steps;
  el.progress.value = 0;
  setStatus(`Restoring: 0 of ${steps} steps…`);
  try {
    const out = await conjure.restore({
      task, input, mask, steps,
      method: el.method.value,
      seed: Number(el.seed.value) || 0,
      onProgress: (done, total) => {
        el.progress.max = total;
        el.progress.value = done;
        setStatus(`Restoring: ${done} of ${total} steps…`);
      },
    });
    drawNearest(el.before, before);
    el.result.getContext('2d').putImageData(out.image, 0, 0);
    const adapter = conjure.info().adapter;
    setStatus(`Restored in ${Math.round(out.ms)} ms on ${out.backend}${adapter ? ` (${adapter})` : ''} · ${task}, ${steps} steps, ${el.method.selectedOptions[0].text}.`);
    el.download.disabled = false;
    setState('done');
  } catch (err) {
    setStatus(`Restoring failed: ${err.message}`, true);
    setState('error');
  } finally {
    busy = false;
    updateRun();
  }
}

function download() {
  el.result.toBlob((blob) => {
    if (!blob) {
      setStatus('Could not encode the result as PNG.', true);
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `conjure-${el.task.value}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
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
el.task.addEventListener('change', updateSource);
el.undo.addEventListener('click', () => brush.undo());
el.clear.addEventListener('click', () => brush.clear());
el.maskBox.addEventListener('click', () => brush.box());
el.run.addEventListener('click', restore);
el.split.addEventListener('input', () => el.compare.style.setProperty('--split', `${el.split.value}%`));
el.enlarge.addEventListener('click', () => {
  const large = el.compare.classList.toggle('large');
  el.enlarge.setAttribute('aria-pressed', String(large));
});
el.download.addEventListener('click', download);

// Offline after the first visit: the service worker precaches the site.
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').catch((err) => {
    console.warn(`conjure: offline use is off, the service worker did not register: ${err.message}`);
  });
}

setState('loading');
updateSource();
try {
  conjure = await Conjure.load();
  const info = conjure.info();
  resolution = info.model.resolution;
  showNotice(info);
  setStatus(readyText());
  setState('ready');
  updateSource();
} catch (err) {
  setStatus(`Conjure could not start: ${err.message}`, true);
  setState('error');
}
