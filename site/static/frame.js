// The framer: shows the photo on a canvas with a square the user drags and
// resizes (pointer drag, mouse wheel, or the zoom slider) to choose the
// region to restore. The region is kept in photo pixels, so a photo of any
// size frames the same way.

const VIEW_MAX = 720; // longest side of the canvas, in canvas pixels
const VIEW_MIN = 320; // small photos are enlarged to at least this, pixelated
const SLIDER_MAX = 1000; // the zoom slider's max attribute

export class Framer {
  /**
   * @param {HTMLCanvasElement} canvas where the photo and square are drawn
   * @param {HTMLInputElement} zoom range input 0..1000: 1000 is the largest square
   * @param {(region: {x: number, y: number, size: number}) => void} onChange
   */
  constructor(canvas, zoom, onChange) {
    this.canvas = canvas;
    this.zoom = zoom;
    this.onChange = onChange;
    this.image = null;
    this.region = null;
    this.drag = null;
    canvas.addEventListener('pointerdown', (e) => this.#down(e));
    canvas.addEventListener('pointermove', (e) => this.#move(e));
    canvas.addEventListener('pointerup', (e) => this.#up(e));
    canvas.addEventListener('pointercancel', (e) => this.#up(e));
    canvas.addEventListener('wheel', (e) => this.#wheel(e), { passive: false });
    zoom.addEventListener('input', () => this.#resize(this.#sizeOf(Number(zoom.value))));
  }

  /** Shows image (ImageBitmap) and frames its largest centred square. */
  setImage(image) {
    this.image = image;
    const long = Math.max(image.width, image.height);
    this.scale = Math.min(VIEW_MAX, Math.max(VIEW_MIN, long)) / long;
    this.canvas.width = Math.round(image.width * this.scale);
    this.canvas.height = Math.round(image.height * this.scale);
    const short = Math.min(image.width, image.height);
    this.maxSize = short;
    this.minSize = Math.min(short, Math.max(4, short / 20));
    this.region = { x: (image.width - short) / 2, y: (image.height - short) / 2, size: short };
    this.zoom.value = String(SLIDER_MAX);
    this.#changed();
  }

  // Slider positions map to sizes logarithmically: each step zooms alike.
  #sizeOf(v) {
    return this.minSize * (this.maxSize / this.minSize) ** (v / SLIDER_MAX);
  }

  #sliderOf(size) {
    if (this.maxSize === this.minSize) return SLIDER_MAX;
    return Math.round(SLIDER_MAX * Math.log(size / this.minSize) / Math.log(this.maxSize / this.minSize));
  }

  // Resizes the square about its centre, kept inside the photo.
  #resize(size) {
    if (!this.region) return;
    const r = this.region;
    size = Math.min(this.maxSize, Math.max(this.minSize, size));
    const cx = r.x + r.size / 2;
    const cy = r.y + r.size / 2;
    this.region = this.#clamp({ x: cx - size / 2, y: cy - size / 2, size });
    this.#changed();
  }

  #clamp(r) {
    return {
      x: Math.min(this.image.width - r.size, Math.max(0, r.x)),
      y: Math.min(this.image.height - r.size, Math.max(0, r.y)),
      size: r.size,
    };
  }

  // Photo coordinates of a pointer event.
  #at(e) {
    const box = this.canvas.getBoundingClientRect();
    const k = this.canvas.width / box.width / this.scale;
    return { x: (e.clientX - box.left) * k, y: (e.clientY - box.top) * k };
  }

  #down(e) {
    if (!this.region) return;
    const p = this.#at(e);
    this.drag = { id: e.pointerId, p, start: { ...this.region } };
    this.canvas.setPointerCapture(e.pointerId);
  }

  #move(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    const p = this.#at(e);
    const s = this.drag.start;
    this.region = this.#clamp({ x: s.x + p.x - this.drag.p.x, y: s.y + p.y - this.drag.p.y, size: s.size });
    this.#changed();
  }

  #up(e) {
    if (this.drag && e.pointerId === this.drag.id) this.drag = null;
  }

  #wheel(e) {
    if (!this.region) return;
    e.preventDefault();
    this.#resize(this.region.size * Math.exp(e.deltaY * 0.002));
  }

  #changed() {
    this.zoom.value = String(this.#sliderOf(this.region.size));
    this.#draw();
    this.onChange(this.region);
  }

  #draw() {
    const ctx = this.canvas.getContext('2d');
    const { width, height } = this.canvas;
    ctx.imageSmoothingEnabled = this.scale < 1;
    ctx.drawImage(this.image, 0, 0, width, height);
    const r = this.region;
    const s = this.scale;
    // Dim everything outside the square (even-odd fill of two rectangles).
    ctx.beginPath();
    ctx.rect(0, 0, width, height);
    ctx.rect(r.x * s, r.y * s, r.size * s, r.size * s);
    ctx.fillStyle = 'rgba(0, 0, 0, 0.55)';
    ctx.fill('evenodd');
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#ffffff';
    ctx.strokeRect(r.x * s + 1, r.y * s + 1, r.size * s - 2, r.size * s - 2);
  }
}
