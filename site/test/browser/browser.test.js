// browser.test.js: Conjure in a real browser. Debian's Chromium (headless,
// WebGPU on SwiftShader, forced with ?backend=webgpu and {backend: 'webgpu'}
// since by default a software fallback adapter is left for the CPU) loads
// the page from the native edge server and
//   (a) restores whole photos through the UI with the photo model: 4×
//       super-resolution of a two-tile photo, compared with `conjure restore
//       --backend cpu` (PSNR ≥ 40 dB), and inpainting of a brushed stroke on
//       a photo larger than the working size, which must keep every
//       unmasked pixel; then the face model in its square frame;
//   (b) restores a nine-tile photo through the public Conjure API with a
//       small test model and checks it against the command line, that
//       progress counted tiles × steps and that it ran on WebGPU, and that
//       failures reject with messages that say what to do, and that a
//       cancelled restore rejects with AbortError and leaves the instance
//       able to restore again;
//   (c) runs the page on the CPU (/?backend=cpu): it estimates the time,
//       restores a small photo as the command line does and refuses a
//       photo it would need minutes for;
// and checks that no request left the origin; then (d) a page on another
// origin imports conjure.js and loads the model, as an embedding blog
// would, and by default finds SwiftShader a fallback and runs on the CPU.
// Screenshots go to artifacts/.
//
// Run: make test-browser (it builds bin/conjure and the site first).
// SwiftShader runs the photo model at about half a minute per 64×64 tile
// and step on two cores, so restores use one step and few tiles.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { launch } from './chromium.js';
import { startServer } from './server.js';
import { crop, decodePNG, encodePNG, psnr } from './png.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const ARTIFACTS = path.join(HERE, 'artifacts');
const CONJURE = process.env.CONJURE ?? path.join(ROOT, 'bin', 'conjure');
const RESTORE_MS = 10 * 60_000; // one few-tile restore on SwiftShader, with room
const LOAD_MS = 3 * 60_000;

// Photos: parts of the model card's figures. The small test model is the
// local network of the Go and PyTorch golden tests (16×16 tiles), served at
// a same-origin URL by the test itself, so Conjure.load({model: URL}) runs
// nine tiles in seconds.
const FIGURE = decodePNG(fs.readFileSync(path.join(ROOT, 'models', 'face64-samples.png')));
const TINY_MODEL = path.join(ROOT, 'model', 'testdata', 'tiny-local', 'model-int8.safetensors');
const TINY_PATH = '/test/tiny-local.safetensors';

let server;
let browser;
let page;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conjure-browser-'));
const offOrigin = [];
const consoleLog = [];
const started = Date.now();

before(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  server = await startServer(ROOT);
  browser = await launch();
  browser.context.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin !== server.origin && u.protocol !== 'data:' && u.protocol !== 'blob:') {
      offOrigin.push(r.url());
    }
  });
  const tiny = fs.readFileSync(TINY_MODEL);
  await browser.context.route(`${server.origin}${TINY_PATH}`, (r) => r.fulfill({ body: tiny, contentType: 'application/octet-stream' }));
  // WebGPU on SwiftShader, a software fallback the default would leave for the CPU.
  page = await openPage('/?backend=webgpu');
});

after(async () => {
  await browser?.close();
  server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`# browser layer: ${((Date.now() - started) / 1000).toFixed(0)} s`);
});

/** openPage opens path in a new tab and waits for the model to load. */
async function openPage(where) {
  const p = await browser.context.newPage();
  p.on('console', (m) => consoleLog.push(`${m.type()}: ${m.text()}`));
  p.on('pageerror', (e) => consoleLog.push(`pageerror: ${e.message}`));
  await p.goto(`${server.origin}${where}`);
  await waitReady(p);
  return p;
}

async function waitReady(p) {
  await waitState(p, ['ready', 'error'], LOAD_MS);
  assert.equal(await state(p), 'ready', `the page did not get ready: ${await p.locator('#status').innerText()}\n${consoleLog.join('\n')}`);
}

function state(p) {
  return p.evaluate(() => document.body.dataset.state);
}

function waitState(p, states, timeout) {
  return p.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout, polling: 500 });
}

/** openPhoto gives the page img as a PNG file. */
async function openPhoto(p, name, img) {
  const file = path.join(tmp, `${name}.png`);
  fs.writeFileSync(file, encodePNG(img));
  await p.setInputFiles('#file', file);
  return file;
}

/** cli runs `conjure restore --backend cpu` and returns its PNG, decoded. */
async function cli(name, args) {
  const out = path.join(tmp, `${name}-cli.png`);
  await promisify(execFile)(CONJURE, ['restore', ...args, '--out', out, '--backend', 'cpu']);
  fs.copyFileSync(out, path.join(ARTIFACTS, `${name}-cli.png`));
  return decodePNG(fs.readFileSync(out));
}

/** canvasPixels returns the pixels of a canvas of the page. */
async function canvasPixels(p, sel) {
  const r = await p.evaluate((s) => {
    const c = document.querySelector(s);
    return { width: c.width, height: c.height, data: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) };
  }, sel);
  return { width: r.width, height: r.height, data: Uint8ClampedArray.from(r.data) };
}

/**
 * runUI clicks #run and waits for the restore to end, checking it
 * succeeded on backend and that progress reached its total; it returns the
 * status text and the progress total.
 */
async function runUI(p, name, backend) {
  await p.waitForSelector('#run:enabled', { timeout: LOAD_MS });
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}-before.png`), fullPage: true });
  const t0 = Date.now();
  // The click's handler sets the state to 'running', or 'error' at once.
  await p.click('#run');
  await waitState(p, ['done', 'error'], RESTORE_MS);
  const status = await p.locator('#status').innerText();
  assert.equal(await state(p), 'done', `${name}: ${status}\n${consoleLog.join('\n')}`);
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}-after.png`), fullPage: true });
  const [value, max] = await p.evaluate(() => [document.querySelector('#progress').value, document.querySelector('#progress').max]);
  assert.ok(max >= 1 && value === max, `${name}: progress ${value} of ${max}`);
  assert.match(status, new RegExp(`on ${backend}`, 'i'), `${name}: status ${JSON.stringify(status)} does not name ${backend}`);
  const result = await canvasPixels(p, '#result');
  fs.writeFileSync(path.join(ARTIFACTS, `${name}-result.png`), encodePNG(result));
  console.log(`# ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${max} tile-steps; ${status}`);
  return { status, total: max, result };
}

/**
 * apiRestore loads model through the page's Conjure API (on backend, with
 * workers) and restores img 2×, returning what the API reports: info, the
 * plan, the progress calls, the backend, the time and the image, and with
 * preview set the previews ({step, steps, image}).
 */
async function apiRestore(img, { model, backend, workers, steps, seed, preview = false }) {
  const r = await page.evaluate(async ({ px, width, height, model, backend, workers, steps, seed, preview }) => {
    const { Conjure } = await import('/conjure.js');
    const c = await Conjure.load({ model, backend, workers });
    const plan = await c.plan({ task: 'sr2', width, height, steps });
    const progress = [];
    const previews = [];
    const r = await c.restore({
      task: 'sr2', input: new ImageData(new Uint8ClampedArray(px), width, height), steps, seed,
      onProgress: (done, total) => progress.push([done, total]),
      onPreview: preview
        ? (image, step, steps) => previews.push({ step, steps, width: image.width, height: image.height, px: Array.from(image.data) })
        : undefined,
    });
    const info = c.info();
    c.close();
    return {
      info, plan, progress, previews, backend: r.backend, ms: r.ms,
      width: r.image.width, height: r.image.height, px: Array.from(r.image.data),
    };
  }, { px: Array.from(img.data), width: img.width, height: img.height, model, backend, workers, steps, seed, preview });
  const image = (p) => ({ width: p.width, height: p.height, data: Uint8ClampedArray.from(p.px) });
  return { ...r, image: image(r), previews: r.previews.map((p) => ({ step: p.step, steps: p.steps, image: image(p) })) };
}

/**
 * tinyCase is the nine-tile case of the small test model: a 16×16 photo
 * restored 2× in 2 steps, seed 3, with the command line's result.
 */
async function tinyCase(name) {
  const steps = 2;
  const seed = 3;
  const img = crop(FIGURE, 40, 200, 16, 16);
  const input = path.join(tmp, `${name}.png`);
  fs.writeFileSync(input, encodePNG(img));
  const want = await cli(`${name}-sr2`, ['--task', 'sr2', '--input', input, '--model', TINY_MODEL, '--steps', String(steps), '--seed', String(seed)]);
  return { img, steps, seed, want };
}

/** checkProgress checks that progress calls grew to total, against total. */
function checkProgress(progress, total) {
  assert.deepEqual(progress.at(-1), [total, total], `progress ${JSON.stringify(progress)}`);
  assert.ok(progress.every(([d, t], i) => t === total && (i === 0 || d > progress[i - 1][0])), `progress ${JSON.stringify(progress)}`);
}

test('UI: the photo model restores a whole two-tile photo 4× as the CLI does', { timeout: RESTORE_MS + 60_000 }, async () => {
  const img = crop(FIGURE, 20, 30, 24, 16);
  const file = await openPhoto(page, 'ui-photo-sr4', img);
  await page.selectOption('#task', 'sr4');
  await page.selectOption('#steps', '1');
  await page.selectOption('#method', 'cpigdm');
  // The estimate is there before the first restore: Load calibrated WebGPU.
  await page.waitForFunction(() => /Result 96×64 · 2 tiles × 1 step · about .* on WebGPU/.test(document.querySelector('#estimate').textContent), null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.body.dataset.mode), 'photo');
  const { total, result } = await runUI(page, 'ui-photo-sr4', 'webgpu');
  assert.equal(total, 2, 'progress counts 2 tiles × 1 step');
  assert.deepEqual([result.width, result.height], [96, 64]);
  const want = await cli('ui-photo-sr4', ['--task', 'sr4', '--input', file, '--steps', '1', '--seed', '0']);
  const db = psnr(result, want);
  console.log(`# ui-photo-sr4: PSNR against the CLI ${db.toFixed(2)} dB`);
  assert.ok(db >= 40, `page vs CLI PSNR ${db.toFixed(2)} dB < 40`);
  await page.click('#enlarge');
  await page.screenshot({ path: path.join(ARTIFACTS, 'ui-photo-sr4-enlarged.png'), fullPage: true });
  await page.click('#enlarge');
});

test('UI: inpainting a brushed stroke keeps every unmasked pixel of a photo larger than the working size', { timeout: RESTORE_MS + 60_000 }, async () => {
  const W = 320;
  const H = 272; // larger than restore.DefaultWork (256) both ways
  const img = crop(FIGURE, 100, 100, W, H);
  await openPhoto(page, 'ui-photo-inpaint', img);
  await page.selectOption('#task', 'inpaint');
  await page.selectOption('#steps', '1');
  await page.waitForSelector('#tool-brush:checked');
  // A short stroke, in photo pixels, drawn on the fitted view.
  await page.locator('#view').scrollIntoViewIfNeeded();
  const from = { x: 150, y: 130 };
  const to = { x: 165, y: 130 };
  const at = await page.evaluate(({ W, H, pts }) => {
    const c = document.querySelector('#view');
    const box = c.getBoundingClientRect();
    const s = Math.min(c.width / W, c.height / H);
    const ox = (c.width - W * s) / 2;
    const oy = (c.height - H * s) / 2;
    const k = box.width / c.width;
    return pts.map((p) => ({ x: box.left + (ox + p.x * s) * k, y: box.top + (oy + p.y * s) * k }));
  }, { W, H, pts: [from, to] });
  await page.mouse.move(at[0].x, at[0].y);
  await page.mouse.down();
  await page.mouse.move(at[1].x, at[1].y, { steps: 5 });
  await page.mouse.up();
  const brush = Number(await page.inputValue('#brush-size'));
  const { result } = await runUI(page, 'ui-photo-inpaint', 'webgpu');
  assert.deepEqual([result.width, result.height], [W, H]);
  // #before is the photo with the holes painted mid-grey: the mask.
  const holes = await canvasPixels(page, '#before');
  let masked = 0;
  let changed = 0;
  for (let i = 0; i < W * H; i++) {
    const px = [0, 1, 2].map((c) => img.data[4 * i + c]);
    const hole = [0, 1, 2].some((c) => holes.data[4 * i + c] !== px[c]);
    const same = [0, 1, 2].every((c) => result.data[4 * i + c] === px[c]);
    const x = i % W;
    const y = Math.floor(i / W);
    if (hole) {
      masked++;
      if (!same) changed++;
      // The hole is the stroke, a band of the brush's width along the segment.
      const u = Math.max(from.x, Math.min(to.x, x + 0.5));
      assert.ok(Math.hypot(x + 0.5 - u, y + 0.5 - from.y) <= brush / 2 + 1.5, `masked pixel (${x}, ${y}) is off the stroke`);
    } else {
      assert.ok(same, `unmasked pixel (${x}, ${y}) changed from ${px} to ${[0, 1, 2].map((c) => result.data[4 * i + c])}`);
    }
  }
  console.log(`# ui-photo-inpaint: ${masked} pixels masked, ${changed} of them changed, brush ${brush} px`);
  assert.ok(masked > 0 && changed > 0, `masked ${masked}, changed ${changed}: the stroke was not filled`);
});

test('UI: the face model restores its square frame', { timeout: RESTORE_MS + LOAD_MS }, async () => {
  await page.selectOption('#model', 'face64');
  await waitReady(page);
  await openPhoto(page, 'ui-face', crop(FIGURE, 0, 0, 128, 128));
  await page.selectOption('#task', 'sr4');
  await page.selectOption('#steps', '1');
  assert.equal(await page.evaluate(() => document.body.dataset.mode), 'framed');
  const { total, result } = await runUI(page, 'ui-face-sr4', 'webgpu');
  assert.equal(total, 1);
  assert.deepEqual([result.width, result.height], [64, 64]);
});

test('API: a nine-tile photo through Conjure equals conjure restore --backend cpu', { timeout: RESTORE_MS + LOAD_MS }, async () => {
  const { img, steps, seed, want } = await tinyCase('api-tiny');
  const t0 = Date.now();
  const got = await apiRestore(img, { model: TINY_PATH, backend: 'webgpu', steps, seed });
  console.log(`# api-tiny-sr2: ${((Date.now() - t0) / 1000).toFixed(1)} s, restore ${got.ms.toFixed(0)} ms on ${got.info.adapter}`);
  const result = got.image;
  fs.writeFileSync(path.join(ARTIFACTS, 'api-tiny-sr2-browser.png'), encodePNG(result));

  assert.equal(got.backend, 'webgpu', `ran on ${got.backend}: ${got.info.notice}`);
  assert.deepEqual(got.info.model, { name: 'tiny-local', resolution: 16, bytes: fs.statSync(TINY_MODEL).size, framed: false });
  assert.deepEqual(got.info.models.map((m) => m.name), ['photo', 'face64']);
  assert.deepEqual([result.width, result.height], [32, 32]);
  assert.equal(got.plan.tiles, 9, `plan ${JSON.stringify(got.plan)}`);
  checkProgress(got.progress, 9 * steps);
  const db = psnr(result, want);
  console.log(`# api-tiny-sr2: PSNR against the CLI ${db.toFixed(2)} dB`);
  assert.ok(db >= 40, `browser vs CLI PSNR ${db.toFixed(2)} dB < 40`);
});

test('API: on the CPU, tiles run on a pool of Web Workers: 1 and 3 give the same image, the CLI\'s', { timeout: RESTORE_MS + 2 * LOAD_MS }, async () => {
  const { img, steps, seed, want } = await tinyCase('api-pool');
  const runs = {};
  for (const workers of [1, 3]) {
    const r = await apiRestore(img, { model: TINY_PATH, backend: 'cpu', workers, steps, seed });
    runs[workers] = r;
    console.log(`# api-pool: ${workers} workers: restore ${r.ms.toFixed(0)} ms`);
    assert.equal(r.backend, 'cpu');
    assert.equal(r.info.threads, workers, `info ${JSON.stringify(r.info)}`);
    checkProgress(r.progress, 9 * steps);
    const db = psnr(r.image, want);
    assert.ok(db >= 40, `${workers} workers vs CLI PSNR ${db.toFixed(2)} dB < 40`);
  }
  assert.deepEqual(runs[3].image.data, runs[1].image.data, '3 workers gave another image than 1');
});

test('API: onPreview gets one preview a step, the last the result, on the CPU and on WebGPU', { timeout: 2 * (RESTORE_MS + LOAD_MS) }, async () => {
  const { img, steps, seed, want } = await tinyCase('api-preview');
  for (const backend of ['cpu', 'webgpu']) {
    const r = await apiRestore(img, { model: TINY_PATH, backend, workers: 2, steps, seed, preview: true });
    assert.equal(r.backend, backend);
    assert.deepEqual(r.previews.map((p) => [p.step, p.steps]), [...Array(steps).keys()].map((i) => [i + 1, steps]), `${backend}: previews`);
    for (const p of r.previews) {
      assert.deepEqual([p.image.width, p.image.height], [r.image.width, r.image.height], `${backend}: preview of step ${p.step}`);
    }
    assert.deepEqual(r.previews.at(-1).image.data, r.image.data, `${backend}: the last preview is not the result`);
    assert.notDeepEqual(r.previews[0].image.data, r.image.data, `${backend}: the first preview is already the result`);
    // The result with previews is the one without: the command line's.
    const db = psnr(r.image, want);
    console.log(`# api-preview: ${backend}: ${r.previews.length} previews; result vs the CLI ${db.toFixed(2)} dB`);
    assert.ok(db >= 40, `${backend}: result with previews vs CLI PSNR ${db.toFixed(2)} dB < 40`);
  }
});

test('API: a cancelled restore rejects with AbortError, and the instance restores again', { timeout: RESTORE_MS + 2 * LOAD_MS }, async () => {
  const r = await page.evaluate(async (model) => {
    const { Conjure } = await import('/conjure.js');
    const c = await Conjure.load({ model, backend: 'cpu' });
    const input = new ImageData(32, 32);
    for (let i = 0; i < input.data.length; i++) input.data[i] = (i * 37) % 256;
    const early = await c.restore({ task: 'sr2', input, signal: AbortSignal.abort() }).then(() => 'resolved', (e) => e.name);
    const ctrl = new AbortController();
    let progressAtAbort = 0;
    let total = 0;
    const t0 = performance.now();
    const cancelled = await c.restore({
      task: 'sr2', input, steps: 50, signal: ctrl.signal,
      onProgress: (done, all) => { if (!progressAtAbort) { progressAtAbort = done; total = all; ctrl.abort(); } },
    }).then(() => 'resolved', (e) => e.name);
    const cancelMs = performance.now() - t0;
    const again = await c.restore({ task: 'sr2', input, steps: 1 });
    c.close();
    return { early, cancelled, progressAtAbort, total, cancelMs, width: again.image.width, backend: again.backend };
  }, TINY_PATH);
  console.log(`# cancel: aborted at tile-step ${r.progressAtAbort} of ${r.total}, rejected after ${r.cancelMs.toFixed(0)} ms`);
  assert.equal(r.early, 'AbortError', 'an already aborted signal');
  assert.equal(r.cancelled, 'AbortError', 'a restore aborted while it runs');
  assert.ok(r.progressAtAbort > 0 && r.progressAtAbort < r.total, `aborted at ${r.progressAtAbort} of ${r.total}`);
  assert.deepEqual([r.width, r.backend], [64, 'cpu'], 'the restore after the cancel');
});

test('API: failures reject with what to do; the CPU backend says why and estimates', { timeout: 2 * LOAD_MS }, async () => {
  const r = await page.evaluate(async () => {
    const { Conjure } = await import('/conjure.js');
    const message = (p) => p.then(() => 'resolved', (e) => e.message);
    const missing = await message(Conjure.load({ model: '/no-such-model.safetensors' }));
    const notModel = await message(Conjure.load({ model: '/assets.json' })); // refused by the Go side
    const c = await Conjure.load({ backend: 'cpu' });
    const info = c.info();
    const badTask = await message(c.restore({ task: 'zoom', input: new ImageData(16, 16) }));
    const noMask = await message(c.restore({ task: 'inpaint', input: new ImageData(64, 64) }));
    const tooBig = await message(c.restore({ task: 'sr4', input: new ImageData(600, 100) }));
    const tooSmall = await message(c.plan({ task: 'deblur', width: 8, height: 100 }));
    const plan = await c.plan({ task: 'sr4', width: 48, height: 40, steps: 5 });
    const photo = await c.plan({ task: 'sr4', width: 128, height: 96, steps: 5 });
    c.close();
    return { missing, notModel, info, badTask, noMask, tooBig, tooSmall, plan, photo };
  });
  assert.match(r.missing, /HTTP 404.*check the URL.*photo, face64/);
  assert.match(r.notModel, /not a Conjure weight file.*reload the page/);
  assert.equal(r.info.backend, 'cpu');
  assert.equal(r.info.model.name, 'photo');
  assert.match(r.info.notice, /CPU backend was requested/);
  assert.match(r.badTask, /use one of sr4/);
  assert.match(r.noMask, /inpainting needs one/);
  assert.match(r.tooBig, /2048×2048.*at most 512×512/);
  assert.match(r.tooSmall, /at least 16×16/);
  assert.equal(r.plan.tiles, 12);
  assert.equal(r.plan.tileSteps, 60);
  assert.ok(r.plan.seconds > 0, `CPU plan ${JSON.stringify(r.plan)} has no estimate`);
  console.log(`# cpu estimate: 48×40 sr4, 5 steps: ${r.plan.seconds.toFixed(1)} s`);
  // The page admits CPU restores estimated at up to ten minutes: a 128×96
  // photo's 4× must be one on this machine's cores (a 4-core visitor's is
  // shorter still).
  console.log(`# cpu estimate: 128×96 sr4, 5 steps, ${r.info.threads} workers: ${r.photo.seconds.toFixed(1)} s, ${r.photo.tiles} tiles`);
  assert.ok(r.photo.seconds > 0 && r.photo.seconds <= 600, `CPU plan ${JSON.stringify(r.photo)}: over the page's ten minutes`);
});

test('UI on the CPU: an estimate, a restore equal to the CLI, and a refusal', { timeout: RESTORE_MS + LOAD_MS }, async () => {
  const cpu = await openPage('/?backend=cpu');
  try {
    assert.equal(await cpu.locator('#notice').isVisible(), true, 'the CPU notice is hidden');
    const img = crop(FIGURE, 300, 300, 16, 16);
    const file = await openPhoto(cpu, 'ui-cpu-sr4', img);
    await cpu.selectOption('#task', 'sr4');
    await cpu.selectOption('#steps', '1');
    await cpu.waitForFunction(() => /about .* on the CPU/.test(document.querySelector('#estimate').textContent), null, { timeout: 60_000 });
    const { result } = await runUI(cpu, 'ui-cpu-sr4', 'cpu');
    const want = await cli('ui-cpu-sr4', ['--task', 'sr4', '--input', file, '--steps', '1', '--seed', '0']);
    const db = psnr(result, want);
    console.log(`# ui-cpu-sr4: PSNR against the CLI ${db.toFixed(2)} dB`);
    assert.ok(db >= 40, `CPU page vs CLI PSNR ${db.toFixed(2)} dB < 40`);
    // 512×512 at 4× is 1849 tiles a step: at 5 steps, most of an hour on
    // the CPU (at 1 step the pool of workers brings it near the limit).
    await openPhoto(cpu, 'ui-cpu-large', crop(FIGURE, 0, 0, 512, 512));
    await cpu.selectOption('#steps', '5');
    await cpu.waitForFunction(() => /is not started/.test(document.querySelector('#estimate').textContent), null, { timeout: 60_000 });
    assert.equal(await cpu.locator('#run').isDisabled(), true, 'Restore is enabled for a restore of minutes on the CPU');
    await cpu.screenshot({ path: path.join(ARTIFACTS, 'ui-cpu-refused.png'), fullPage: true });
  } finally {
    await cpu.close();
  }
});

test('no request left the origin', () => {
  assert.deepEqual(offOrigin, []);
});

// (d) runs after the origin check: here requests cross origins on purpose.
test('API: a page on another origin loads Conjure from this one', { timeout: LOAD_MS }, async () => {
  const blog = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>A blog</title><p>A blog that embeds Conjure.');
  });
  await new Promise((resolve) => blog.listen(0, '127.0.0.1', resolve));
  const other = await browser.context.newPage();
  try {
    await other.goto(`http://127.0.0.1:${blog.address().port}/`);
    const info = await other.evaluate(async (origin) => {
      const { Conjure } = await import(`${origin}/conjure.js`);
      const c = await Conjure.load();
      const i = c.info();
      c.close();
      return i;
    }, server.origin);
    // SwiftShader is the only adapter here: by default Conjure detects the
    // software fallback and runs on the CPU, saying why.
    assert.equal(info.backend, 'cpu', `embedded: ${JSON.stringify(info)}`);
    assert.match(info.notice, /software fallback \(.*swiftshader.*\).*backend: 'webgpu'/i);
    assert.equal(info.model.name, 'photo');
  } finally {
    await other.close();
    blog.close();
  }
});
