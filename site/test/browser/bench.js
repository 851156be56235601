// bench.js: times a whole-photo restore in Debian's Chromium (headless,
// WebGPU on SwiftShader unless the machine has a GPU), through the public
// Conjure API of the page that `make serve` serves, and prints the time per
// restore and per tile-step, in all and per core (the CPU path's pool of
// Web Workers). First it times `conjure restore --backend cpu` on the same
// input, the native reference, and at the end it prints the ratio of the
// two and the PSNR between their results. The input is a crop of the photo
// model card's figure, a quarter of --size on each side for sr4.
//
// Run: make bench-browser SIZE=256x256 STEPS=5 (or node bench.js --size
// 256x256 --steps 5 --task sr4 --backend auto|webgpu|cpu [--workers N]
// after make build site).
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';

import { launch } from './chromium.js';
import { startServer } from './server.js';
import { crop, decodePNG, encodePNG, psnr } from './png.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const FACTOR = { sr4: 4, sr2: 2 };

const { values: opt } = parseArgs({
  options: {
    size: { type: 'string', default: '256x256' },
    steps: { type: 'string', default: '5' },
    task: { type: 'string', default: 'sr4' },
    backend: { type: 'string', default: 'auto' },
    model: { type: 'string', default: 'photo' },
    workers: { type: 'string' },
  },
});
const m = /^(\d+)x(\d+)$/.exec(opt.size);
if (!m || !(opt.task in FACTOR)) {
  console.error(`bench.js: --size ${opt.size} --task ${opt.task}: use --size WxH (the output) and --task sr4 or sr2`);
  process.exit(2);
}
const steps = Number(opt.steps);
const f = FACTOR[opt.task];
const [width, height] = [Number(m[1]) / f, Number(m[2]) / f];
const figure = decodePNG(fs.readFileSync(path.join(ROOT, 'models', 'photo-sr4.png')));
if (!Number.isInteger(width) || !Number.isInteger(height) || width > figure.width || height > figure.height) {
  console.error(`bench.js: --size ${opt.size}: each side a multiple of ${f}, at most ${f * figure.width}×${f * figure.height}`);
  process.exit(2);
}
const img = crop(figure, 0, 0, width, height);
const workers = opt.workers === undefined ? undefined : Number(opt.workers);

// The native reference: the command line on the same input, same model,
// same seed and steps, timed as a whole (process start and model load
// included, as the browser's figure includes the workers' start).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conjure-bench-'));
fs.writeFileSync(path.join(tmp, 'in.png'), encodePNG(img));
const tc = Date.now();
await promisify(execFile)(path.join(ROOT, 'bin', 'conjure'), ['restore', '--task', opt.task, '--input', path.join(tmp, 'in.png'),
  '--model', opt.model, '--steps', String(steps), '--backend', 'cpu', '--out', path.join(tmp, 'cli.png')]);
const cliMs = Date.now() - tc;
const want = decodePNG(fs.readFileSync(path.join(tmp, 'cli.png')));
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`native: conjure restore --backend cpu: ${(cliMs / 1000).toFixed(1)} s`);

const server = await startServer(ROOT);
const browser = await launch();
try {
  const page = await browser.context.newPage();
  await page.goto(server.origin + '/');
  const r = await page.evaluate(async ({ px, width, height, steps, task, backend, model, workers }) => {
    const { Conjure } = await import('/conjure.js');
    const t0 = performance.now();
    const c = await Conjure.load({ model, backend, workers });
    const loadMs = performance.now() - t0;
    const plan = await c.plan({ task, width, height, steps });
    const t1 = performance.now();
    const r = await c.restore({ task, input: new ImageData(new Uint8ClampedArray(px), width, height), steps });
    const restoreMs = performance.now() - t1;
    const info = c.info();
    c.close();
    return {
      loadMs, restoreMs, plan, backend: r.backend, adapter: info.adapter, threads: info.threads,
      width: r.image.width, height: r.image.height, px: Array.from(r.image.data),
    };
  }, { px: Array.from(img.data), width, height, steps, task: opt.task, backend: opt.backend, model: opt.model, workers });
  const tileSteps = r.plan.tiles * steps;
  const perStep = r.restoreMs / tileSteps / 1000;
  const threads = r.backend === 'cpu' ? r.threads : 1;
  console.log(`browser: ${r.backend} on ${r.adapter}${r.backend === 'cpu' ? `, ${threads} workers` : ''}; ` +
    `model ${opt.model} loaded in ${(r.loadMs / 1000).toFixed(1)} s`);
  console.log(`${opt.task} ${width}×${height} → ${r.width}×${r.height}, ${r.plan.tiles} tiles × ${steps} steps: ` +
    `${(r.restoreMs / 1000).toFixed(1)} s from the restore call, ${perStep.toFixed(2)} s per tile-step in all` +
    (r.backend === 'cpu' ? `, ${(perStep * threads).toFixed(2)} s per tile-step per core` : '') +
    ` (${((r.loadMs + r.restoreMs) / 1000).toFixed(1)} s with loading)`);
  const got = { width: r.width, height: r.height, data: Uint8ClampedArray.from(r.px) };
  console.log(`browser ÷ native: ${(r.restoreMs / cliMs).toFixed(2)}× from the restore call, ` +
    `${((r.loadMs + r.restoreMs) / cliMs).toFixed(2)}× with loading; PSNR against the native result ${psnr(got, want).toFixed(2)} dB`);
} finally {
  await browser.close();
  server.stop();
}
