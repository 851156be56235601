// Pixel helpers of the page: cut and scale a region of a photo into the
// ImageData the model takes, and derive the "before" pictures shown beside
// the result. Everything runs on 2-D canvases; nothing leaves the page.

/** A canvas of the given size with its 2-D context (readback-friendly). */
function canvas2d(width, height) {
  const c = document.createElement('canvas');
  c.width = width;
  c.height = height;
  return { canvas: c, ctx: c.getContext('2d', { willReadFrequently: true }) };
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
