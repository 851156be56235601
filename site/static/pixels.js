// Pixel helpers of the page: read a photo's pixels, cut and scale a region
// of it into the ImageData the face model takes, and derive the "before"
// pictures shown beside the result. Everything runs on 2-D canvases;
// nothing leaves the page.

/** A canvas of the given size with its 2-D context (readback-friendly). */
function canvas2d(width, height) {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return { canvas: c, ctx: c.getContext('2d', { willReadFrequently: true }) };
}

/** Returns every pixel of source (an ImageBitmap, image or canvas) as ImageData. */
export function imageDataOf(source) {
  const { ctx } = canvas2d(source.width, source.height);
  ctx.drawImage(source, 0, 0);
  return ctx.getImageData(0, 0, source.width, source.height);
}

/**
 * Returns source scaled down (never up) so that neither side exceeds side,
 * as ImageData, in halving steps as cropScaled does.
 */
export function shrunk(source, side) {
  const s = Math.min(1, side / Math.max(source.width, source.height));
  const w = Math.max(1, Math.round(source.width * s));
  const h = Math.max(1, Math.round(source.height * s));
  let cw = source.width;
  let ch = source.height;
  let { canvas, ctx } = canvas2d(cw, ch);
  ctx.drawImage(source, 0, 0);
  while (cw / 2 >= w && ch / 2 >= h) {
    cw = Math.round(cw / 2);
    ch = Math.round(ch / 2);
    ({ canvas, ctx } = drawnSmooth(canvas, cw, ch));
  }
  if (cw !== w || ch !== h) ({ canvas, ctx } = drawnSmooth(canvas, w, h));
  return ctx.getImageData(0, 0, w, h);
}

// drawnSmooth returns a w×h canvas holding source, scaled with smoothing.
function drawnSmooth(source, w, h) {
  const c = canvas2d(w, h);
  c.ctx.imageSmoothingEnabled = true;
  c.ctx.imageSmoothingQuality = 'high';
  c.ctx.drawImage(source, 0, 0, w, h);
  return c;
}

/**
 * Returns the square region {x, y, size} of source (an ImageBitmap, image or
 * canvas) scaled to out×out pixels as ImageData. Large reductions are done in
 * halving steps: a single high-quality drawImage from, say, 2000 px to 64 px
 * still aliases in some browsers, and halving with smoothing is a box filter.
 */
export function cropScaled(source, region, out) {
  // The first draw reduces by less than 2 to out·2^k; then k halvings.
  const k = Math.max(0, Math.floor(Math.log2(region.size / out)));
  let size = out * 2 ** k;
  let { canvas, ctx } = smoothCanvas(size);
  ctx.drawImage(source, region.x, region.y, region.size, region.size, 0, 0, size, size);
  while (size > out) {
    size /= 2;
    const next = smoothCanvas(size);
    next.ctx.drawImage(canvas, 0, 0, size, size);
    ({ canvas, ctx } = next);
  }
  return ctx.getImageData(0, 0, out, out);
}

function smoothCanvas(size) {
  const c = canvas2d(size, size);
  c.ctx.imageSmoothingEnabled = true;
  c.ctx.imageSmoothingQuality = 'high';
  return c;
}

/** Draws image (ImageData) onto canvas, scaled with nearest-neighbour sampling. */
export function drawNearest(canvas, image) {
  const { canvas: tmp, ctx: tctx } = canvas2d(image.width, image.height);
  tctx.putImageData(image, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}

/** Returns a grey copy of image: each pixel the mean of R, G and B, as the colourisation task sees it. */
export function gray(image) {
  const out = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
  const d = out.data;
  for (let i = 0; i < d.length; i += 4) {
    const m = Math.round((d[i] + d[i + 1] + d[i + 2]) / 3);
    d[i] = d[i + 1] = d[i + 2] = m;
  }
  return out;
}

/** Returns a copy of image with the pixels that mask marks black (to fill) painted mid-grey. */
export function holes(image, mask) {
  const out = new ImageData(new Uint8ClampedArray(image.data), image.width, image.height);
  const d = out.data;
  for (let i = 0; i < d.length; i += 4) {
    if (mask.data[i] < 128) {
      d[i] = d[i + 1] = d[i + 2] = 128;
    }
  }
  return out;
}
