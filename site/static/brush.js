// The inpainting brush: the user paints, at the model's resolution, over
// what the model should fill. The paint canvas is shown over the framed
// photo; mask() turns it into the ImageData conjure.js takes (white = keep,
// black = fill).

const PAINT = '#ff2d55';
const UNDO_LIMIT = 50;

export class Brush {
  /**
   * @param {HTMLCanvasElement} canvas the paint layer, sized R×R by resize
   * @param {HTMLInputElement} size range input: brush diameter in model pixels
   * @param {() => void} onChange called after every stroke, undo and clear
   */
  constructor(canvas, size, onChange) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d', { willReadFrequently: true });
    this.size = size;
    this.onChange = onChange;
    this.history = [];
    this.last = null;
    canvas.addEventListener('pointerdown', (e) => this.#down(e));
    canvas.addEventListener('pointermove', (e) => this.#move(e));
    canvas.addEventListener('pointerup', (e) => this.#up(e));
    canvas.addEventListener('pointercancel', (e) => this.#up(e));
  }

  /** Sets the resolution to r×r, dropping the painting if it changes. */
  resize(r) {
    if (this.canvas.width === r && this.canvas.height === r) return;
    this.canvas.width = r;
    this.canvas.height = r;
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
   * Paints the centred square over a quarter of the area, the hole of
   * `conjure restore --simulate` and of the evaluation's inpaint-box task:
   * rows and columns [R/4, R − R/4) with integer division.
   */
  box() {
    this.#save();
    const r = this.canvas.width;
    const lo = Math.floor(r / 4);
    const hi = r - Math.floor(r / 4);
    this.ctx.fillStyle = PAINT;
    this.ctx.fillRect(lo, lo, hi - lo, hi - lo);
    this.onChange();
  }

  #pixels() {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height);
  }

  #save() {
    this.history.push(this.#pixels());
    if (this.history.length > UNDO_LIMIT) this.history.shift();
  }

  // Model-pixel coordinates of a pointer event.
  #at(e) {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: (e.clientX - box.left) * this.canvas.width / box.width,
      y: (e.clientY - box.top) * this.canvas.height / box.height,
    };
  }

  #down(e) {
    this.#save();
    this.canvas.setPointerCapture(e.pointerId);
    this.last = { id: e.pointerId, p: this.#at(e) };
    this.#stroke(this.last.p, this.last.p);
  }

  #move(e) {
    if (!this.last || e.pointerId !== this.last.id) return;
    const p = this.#at(e);
    this.#stroke(this.last.p, p);
    this.last.p = p;
  }

  #up(e) {
    if (!this.last || e.pointerId !== this.last.id) return;
    this.last = null;
    this.onChange();
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
