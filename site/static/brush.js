// The inpainting brush: the user paints over what the model should fill.
// The paint layer is a canvas the size of the image the mask is for — the
// whole photo at full resolution for the photo model, the R×R frame for
// the face model — shown over that image; mask() turns it into the
// ImageData conjure.js takes (white = keep, black = fill).

const PAINT = '#ff2d55';
// Each undo step is a copy of the layer (64 MB for a 4096×4096 photo):
// at most UNDO_STEPS of them, and at most UNDO_BYTES in all, but always two.
const UNDO_STEPS = 50;
const UNDO_BYTES = 256 * 2 ** 20;

export class Brush {
  /**
   * @param {HTMLCanvasElement} canvas the paint layer, sized by resize
   * @param {HTMLInputElement} size range input: brush diameter in layer pixels
   * @param {() => void} onChange called after every stroke, undo and clear
   */
  constructor(canvas, size, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.size = size;
    this.onChange = onChange;
    this.history = [];
    this.last = null;
  }

  /**
   * Paints with the pointer on target, toLayer(event) giving the layer
   * coordinates of a pointer event.
   */
  attach(target, toLayer) {
    target.addEventListener('pointerdown', (e) => {
      target.setPointerCapture(e.pointerId);
      this.pointer = e.pointerId;
      this.begin(toLayer(e));
    });
    target.addEventListener('pointermove', (e) => {
      if (e.pointerId === this.pointer) this.move(toLayer(e));
    });
    const up = (e) => {
      if (e.pointerId !== this.pointer) return;
      this.pointer = null;
      this.end();
    };
    target.addEventListener('pointerup', up);
    target.addEventListener('pointercancel', up);
  }

  /** Sets the layer to w×h, dropping the painting if the size changes. */
  resize(w, h = w) {
    if (this.canvas.width === w && this.canvas.height === h) return;
    this.canvas.width = w;
    this.canvas.height = h;
    this.history = [];
  }

  /** Reports whether nothing is painted. */
  isEmpty() {
    const d = this.#pixels().data;
    for (let i = 3; i < d.length; i += 4) {
      if (d[i] >= 128) return false;
    }
    return true;
  }

  /** Returns the mask as ImageData: white where nothing is painted (keep), black where painted (fill). */
  mask() {
    const paint = this.#pixels();
    const out = new ImageData(paint.width, paint.height);
    for (let i = 0; i < out.data.length; i += 4) {
      const v = paint.data[i + 3] >= 128 ? 0 : 255;
      out.data[i] = out.data[i + 1] = out.data[i + 2] = v;
      out.data[i + 3] = 255;
    }
    return out;
  }

  /** Undoes the last stroke, clear or box. */
  undo() {
    const prev = this.history.pop();
    if (!prev) return;
    this.ctx.putImageData(prev, 0, 0);
    this.onChange();
  }

  /** Erases all paint (undoable). */
  clear() {
    this.#save();
    this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.onChange();
  }

  /**
   * Paints the centred box over a quarter of the area, the hole of
   * `conjure restore --simulate` (restore.CentreHole): rows [H/4, H − H/4)
   * and columns [W/4, W − W/4) with integer division.
   */
  box() {
    this.#save();
    const { width: w, height: h } = this.canvas;
    const x0 = Math.floor(w / 4);
    const y0 = Math.floor(h / 4);
    this.ctx.fillStyle = PAINT;
    this.ctx.fillRect(x0, y0, w - 2 * x0, h - 2 * y0);
    this.onChange();
  }

  /** Starts a stroke at p (layer pixels). */
  begin(p) {
    this.#save();
    this.last = p;
    this.#stroke(p, p);
  }

  /** Continues the stroke to p. */
  move(p) {
    if (!this.last) return;
    this.#stroke(this.last, p);
    this.last = p;
  }

  /** Ends the stroke. */
  end() {
    if (!this.last) return;
    this.last = null;
    this.onChange();
  }

  #pixels() {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  #save() {
    this.history.push(this.#pixels());
    const { width, height } = this.canvas;
    const limit = Math.max(2, Math.min(UNDO_STEPS, Math.floor(UNDO_BYTES / (4 * width * height))));
    while (this.history.length > limit) this.history.shift();
  }

  #stroke(a, b) {
    const ctx = this.ctx;
    ctx.strokeStyle = PAINT;
    ctx.lineWidth = Number(this.size.value);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }
}
