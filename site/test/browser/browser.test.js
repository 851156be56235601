// browser.test.js: Conjure in a real browser. Debian's Chromium (headless,
// WebGPU on SwiftShader) loads the page from the native edge server and
//   (a) restores a photo through the UI: 5-step 4× super-resolution, then
//       centre-box inpainting;
//   (b) restores through the public Conjure API and checks the result
//       against `conjure restore --backend cpu` on the same input and seed
//       (PSNR ≥ 40 dB), that progress reached the total and that it ran on
//       WebGPU, and that failures reject with messages that say what to do;
// and checks that no request left the origin; then (c) a page on another
// origin imports conjure.js and loads the model, as an embedding blog
// would. Screenshots before and after go to artifacts/.
//
// Run: make test-browser (it builds bin/conjure and the site first).
// SwiftShader runs the network slowly (about a minute per step on two
// cores), so each restore has minutes, and there are only three.
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
const RESTORE_MS = 15 * 60_000; // one 5-step restore on SwiftShader, with room
const LOAD_MS = 3 * 60_000;

// The input: a ground-truth face of the model card's figure (column 5,
// row 3 of models/face64-sr4.png, 128×128 px). Both the browser and the
// command line centre-crop and resize it to what each task takes.
const FACE = crop(decodePNG(fs.readFileSync(path.join(ROOT, 'models', 'face64-sr4.png'))), 512, 256, 128, 128);

let server;
let browser;
let page;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conjure-browser-'));
const offOrigin = [];
const consoleLog = [];

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
  page = await browser.context.newPage();
  page.on('console', (m) => consoleLog.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLog.push(`pageerror: ${e.message}`));
  await page.goto(`${server.origin}/`);
  await waitState(['ready', 'error'], LOAD_MS);
  assert.equal(await state(), 'ready', `the page did not get ready: ${await text('#status')}\n${consoleLog.join('\n')}`);
});

after(async () => {
  await browser?.close();
  server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function state() {
  return page.evaluate(() => document.body.dataset.state);
}

function text(sel) {
  return page.locator(sel).innerText();
}

function waitState(states, timeout) {
  return page.waitForFunction((s) => s.includes(document.body.dataset.state), states, { timeout, polling: 500 });
}

/** runUI clicks #run and waits for the restore to end, checking it succeeded on WebGPU. */
async function runUI(name, steps) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-before.png`), fullPage: true });
  const t0 = Date.now();
  await page.click('#run');
  await waitState(['done', 'error'], RESTORE_MS);
  const status = await text('#status');
  assert.equal(await state(), 'done', `${name}: ${status}\n${consoleLog.join('\n')}`);
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}-after.png`), fullPage: true });
  const progress = await page.evaluate(() => [document.querySelector('#progress').value, document.querySelector('#progress').max]);
  assert.deepEqual(progress, [steps, steps], `${name}: progress ${progress}`);
  assert.match(status, /webgpu/i, `${name}: status ${JSON.stringify(status)} does not name WebGPU`);
  // The result canvas holds an image, not a blank.
  const spread = await page.evaluate(() => {
    const c = document.querySelector('#result');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < d.length; i += 4) {
      lo = Math.min(lo, d[i + 1]);
      hi = Math.max(hi, d[i + 1]);
    }
    return hi - lo;
  });
  assert.ok(spread > 32, `${name}: the result canvas is flat (green spread ${spread})`);
  console.log(`# ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s; ${status}`);
}

test('UI: 5-step 4× super-resolution', { timeout: RESTORE_MS + 60_000 }, async () => {
  const file = path.join(tmp, 'face.png');
  fs.writeFileSync(file, encodePNG(FACE));
  await page.setInputFiles('#file', file);
  await page.selectOption('#task', 'sr4');
  await page.selectOption('#steps', '5');
  await page.selectOption('#method', 'cpigdm');
  await page.waitForSelector('#run:enabled', { timeout: 30_000 });
  await runUI('ui-sr4', 5);
});

test('UI: centre-box inpainting', { timeout: RESTORE_MS + 60_000 }, async () => {
  await page.selectOption('#task', 'inpaint');
  await page.click('#mask-box');
  await page.waitForSelector('#run:enabled', { timeout: 30_000 });
  await runUI('ui-inpaint', 5);
});

test('API: Conjure.restore matches conjure restore --backend cpu', { timeout: RESTORE_MS + LOAD_MS }, async () => {
  const steps = 5;
  const seed = 3;
  const input = path.join(tmp, 'input.png');
  const want = path.join(tmp, 'cli.png');
  fs.writeFileSync(input, encodePNG(FACE));
  await promisify(execFile)(CONJURE, ['restore', '--task', 'sr4', '--input', input, '--out', want,
    '--backend', 'cpu', '--steps', String(steps), '--seed', String(seed)]);
  const t0 = Date.now();
  const got = await page.evaluate(async ({ px, width, height, steps, seed }) => {
    const { Conjure } = await import('/conjure.js');
    const c = await Conjure.load();
    const progress = [];
    const r = await c.restore({
      task: 'sr4', input: new ImageData(new Uint8ClampedArray(px), width, height), steps, seed,
      onProgress: (done, total) => progress.push([done, total]),
    });
    const info = c.info();
    c.close();
    return { info, progress, backend: r.backend, ms: r.ms, width: r.image.width, height: r.image.height, px: Array.from(r.image.data) };
  }, { px: Array.from(FACE.data), width: FACE.width, height: FACE.height, steps, seed });
  console.log(`# api-sr4: ${((Date.now() - t0) / 1000).toFixed(1)} s, restore ${got.ms.toFixed(0)} ms on ${got.info.adapter}`);
  fs.writeFileSync(path.join(ARTIFACTS, 'api-sr4-browser.png'), encodePNG({ width: got.width, height: got.height, data: Uint8ClampedArray.from(got.px) }));
  fs.copyFileSync(want, path.join(ARTIFACTS, 'api-sr4-cli.png'));

  assert.equal(got.backend, 'webgpu', `ran on ${got.backend}: ${got.info.notice}`);
  assert.equal(got.info.backend, 'webgpu');
  assert.equal(got.info.model.resolution, 64);
  assert.deepEqual(got.progress.at(-1), [steps, steps], `progress ${JSON.stringify(got.progress)}`);
  assert.equal(got.progress.length, steps);
  const cli = decodePNG(fs.readFileSync(want));
  const db = psnr({ width: got.width, height: got.height, data: got.px }, cli);
  console.log(`# api-sr4: PSNR against the CLI ${db.toFixed(2)} dB`);
  assert.ok(db >= 40, `browser vs CLI PSNR ${db.toFixed(2)} dB < 40`);
});

test('API: failures reject with what to do; the CPU backend says why', { timeout: 2 * LOAD_MS }, async () => {
  const r = await page.evaluate(async () => {
    const { Conjure } = await import('/conjure.js');
    const message = (p) => p.then(() => 'resolved', (e) => e.message);
    const missing = await message(Conjure.load({ model: '/no-such-model.safetensors' }));
    const notModel = await message(Conjure.load({ model: '/assets.json' })); // refused by the Go side
    const c = await Conjure.load({ backend: 'cpu' });
    const info = c.info();
    const badTask = await message(c.restore({ task: 'zoom', input: new ImageData(16, 16) }));
    const noMask = await message(c.restore({ task: 'inpaint', input: new ImageData(64, 64) }));
    c.close();
    return { missing, notModel, info, badTask, noMask };
  });
  assert.match(r.missing, /HTTP 404.*check the URL/);
  assert.match(r.notModel, /not a Conjure weight file.*reload the page/);
  assert.equal(r.info.backend, 'cpu');
  assert.match(r.info.notice, /CPU backend was requested/);
  assert.match(r.badTask, /use one of sr4/);
  assert.match(r.noMask, /inpainting needs one/);
});

test('no request left the origin', () => {
  assert.deepEqual(offOrigin, []);
});

// (c) runs after the origin check: here requests cross origins on purpose.
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
    assert.equal(info.backend, 'webgpu', `embedded: ${JSON.stringify(info)}`);
    assert.equal(info.model.resolution, 64);
  } finally {
    await other.close();
    blog.close();
  }
});
