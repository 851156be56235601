// bench.js: times a whole-photo restore in Debian's Chromium (headless,
// WebGPU on SwiftShader unless the machine has a GPU), through the public
// Conjure API of the page that `make serve` serves, and prints the time per
// restore and per tile-step. The input is a crop of the photo model card's
// figure, a quarter of --size on each side for sr4.
//
// Run: make bench-browser SIZE=256x256 STEPS=5 (or node bench.js --size
// 256x256 --steps 5 --task sr4 --backend auto|webgpu|cpu after make build site).
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { launch } from './chromium.js';
import { startServer } from './server.js';
import { crop, decodePNG } from './png.js';

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

const server = await startServer(ROOT);
const browser = await launch();
try {
  const page = await browser.context.newPage();
  await page.goto(server.origin + '/');
  const t0 = Date.now();
  const r = await page.evaluate(async ({ px, width, height, steps, task, backend, model }) => {
    const { Conjure } = await import('/conjure.js');
    const t0 = performance.now();
    const c = await Conjure.load({ model, backend });
    const loadMs = performance.now() - t0;
    const plan = await c.plan({ task, width, height, steps });
    const r = await c.restore({ task, input: new ImageData(new Uint8ClampedArray(px), width, height), steps });
    const info = c.info();
    c.close();
    return { loadMs, plan, ms: r.ms, backend: r.backend, adapter: info.adapter, out: [r.image.width, r.image.height] };
  }, { px: Array.from(img.data), width, height, steps, task: opt.task, backend: opt.backend, model: opt.model });
  const tileSteps = r.plan.tiles * steps;
  console.log(`browser: ${r.backend} on ${r.adapter}; model ${opt.model} loaded in ${(r.loadMs / 1000).toFixed(1)} s`);
  console.log(`${opt.task} ${width}×${height} → ${r.out[0]}×${r.out[1]}, ${r.plan.tiles} tiles × ${steps} steps: ` +
    `${(r.ms / 1000).toFixed(1)} s per restore, ${(r.ms / tileSteps).toFixed(0)} ms per tile-step ` +
    `(${((Date.now() - t0) / 1000).toFixed(1)} s with loading)`);
} finally {
  await browser.close();
  server.stop();
}
