// The photo view: the whole photo, the photo model's work surface. It draws
// the photo, and the brush's paint layer over it, on a canvas the size of
// its box, zoomed and panned: the wheel zooms about the pointer and the
// zoom slider about the centre; a drag pans, or paints when the brush is
// the tool. Pointer positions are turned into photo pixels, so painting is
// at the photo's full resolution whatever the zoom.

const SLIDER_MAX = 1000; // the zoom slider's max attribute
const MAX_ZOOM = 16; // screen pixels per photo pixel at the closest zoom

export class PhotoView {
  /**
   * @param {HTMLCanvasElement} canvas where the photo is drawn; sized by CSS
   * @param {HTMLInputElement} zoom range input 0..1000: 0 fits the photo
   * @param {{begin(p), move(p), end()}} painter gets strokes in photo pixels
   */
  constructor(canvas, zoom, painter) {
    this.canvas = canvas;
    this.zoom = zoom;
    this.painter = painter;
    this.image = null;
    this.overlay = null;
    this.tool = 'pan';
    this.drag = null;
    this.s = 1; // canvas pixels per photo pixel
    this.ox = 0; // canvas position of the photo's top-left corner
    this.oy = 0;
    canvas.addEventListener('pointerdown', (e) => this.#down(e));
    canvas.addEventListener('pointermove', (e) => this.#move(e));
    canvas.addEventListener('pointerup', (e) => this.#up(e));
    canvas.addEventListener('pointercancel', (e) => this.#up(e));
    canvas.addEventListener('wheel', (e) => this.#wheel(e), { passive: false });
    zoom.addEventListener('input', () => {
      const c = this.#centre();
      this.#zoomAt(this.#scaleOf(Number(zoom.value)), c.x, c.y);
    });
    new ResizeObserver(() => this.#resized()).observe(canvas);
  }

  /**
   * Shows image (ImageBitmap or canvas) with overlay (a canvas of the same
   * size, or null) over it, fitted to the view.
   */
  setImage(image, overlay) {
    this.image = image;
    this.overlay = overlay;
    this.#resized();
    this.fit();
  }

  /** Sets the pointer's tool: 'pan' or 'brush'. */
  setTool(tool) {
    this.tool = tool;
    this.canvas.classList.toggle('painting', tool === 'brush');
  }

  /** Fits the whole photo in the view. */
  fit() {
    if (!this.image) return;
    this.s = this.#fitScale();
    this.#clamp();
    this.draw();
  }

  /** Zooms to one photo pixel per screen pixel about the view's centre. */
  actualSize() {
    const c = this.#centre();
    this.#zoomAt(devicePixelRatio, c.x, c.y);
  }

  /** Redraws the photo and the overlay. */
  draw() {
    const ctx = this.canvas.getContext('2d');
    const { width, height } = this.canvas;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!this.image) return;
    ctx.setTransform(this.s, 0, 0, this.s, this.ox, this.oy);
    // Zoomed in, every photo pixel is a crisp square.
    ctx.imageSmoothingEnabled = this.s < 1;
    ctx.drawImage(this.image, 0, 0);
    if (this.overlay) {
      ctx.globalAlpha = 0.55;
      ctx.drawImage(this.overlay, 0, 0);
      ctx.globalAlpha = 1;
    }
    this.zoom.value = String(this.#sliderOf(this.s));
  }

  #fitScale() {
    return Math.min(this.canvas.width / this.image.width, this.canvas.height / this.image.height);
  }

  // From the fit (or 1:1, for a photo smaller than the view) to MAX_ZOOM,
  // or to the fit where that is closer still.
  #range() {
    const fit = this.#fitScale();
    const lo = Math.min(fit, devicePixelRatio);
    return [lo, Math.max(fit, lo * 2, MAX_ZOOM * devicePixelRatio)];
  }

  // Slider positions map to scales logarithmically: each step zooms alike.
  #scaleOf(v) {
    const [lo, hi] = this.#range();
    return lo * (hi / lo) ** (v / SLIDER_MAX);
  }

  #sliderOf(s) {
    const [lo, hi] = this.#range();
    return Math.round(SLIDER_MAX * Math.log(s / lo) / Math.log(hi / lo));
  }

  #centre() {
    return { x: this.canvas.width / 2, y: this.canvas.height / 2 };
  }

  // Zooms to scale s keeping the photo point under canvas point (x, y).
  #zoomAt(s, x, y) {
    if (!this.image) return;
    const [lo, hi] = this.#range();
    s = Math.min(hi, Math.max(lo, s));
    this.ox = x - (x - this.ox) * (s / this.s);
    this.oy = y - (y - this.oy) * (s / this.s);
    this.s = s;
    this.#clamp();
    this.draw();
  }

  // Keeps the photo in view: centred along an axis where it is smaller
  // than the view, else covering it.
  #clamp() {
    const w = this.image.width * this.s;
    const h = this.image.height * this.s;
    const { width, height } = this.canvas;
    this.ox = w <= width ? (width - w) / 2 : Math.min(0, Math.max(width - w, this.ox));
    this.oy = h <= height ? (height - h) / 2 : Math.min(0, Math.max(height - h, this.oy));
  }

  // The backing store follows the displayed size in device pixels.
  #resized() {
    const box = this.canvas.getBoundingClientRect();
    const w = Math.max(1, Math.round(box.width * devicePixelRatio));
    const h = Math.max(1, Math.round(box.height * devicePixelRatio));
    if (w === this.canvas.width && h === this.canvas.height) return;
    const wasFit = this.image && Math.abs(this.s - this.#fitScale()) < 1e-9;
    this.canvas.width = w;
    this.canvas.height = h;
    if (!this.image) return;
    if (wasFit) this.s = this.#fitScale();
    this.#clamp();
    this.draw();
  }

  // Canvas pixels of a pointer event.
  #canvasAt(e) {
    const box = this.canvas.getBoundingClientRect();
    return {
      x: (e.clientX - box.left) * this.canvas.width / box.width,
      y: (e.clientY - box.top) * this.canvas.height / box.height,
    };
  }

  /** Photo pixels of a pointer event. */
  photoAt(e) {
    const c = this.#canvasAt(e);
    return { x: (c.x - this.ox) / this.s, y: (c.y - this.oy) / this.s };
  }

  #down(e) {
    if (!this.image) return;
    this.canvas.setPointerCapture(e.pointerId);
    if (this.tool === 'brush') {
      this.drag = { id: e.pointerId, paint: true };
      this.painter.begin(this.photoAt(e));
      this.draw();
      return;
    }
    this.drag = { id: e.pointerId, at: this.#canvasAt(e), ox: this.ox, oy: this.oy };
  }

  #move(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    if (this.drag.paint) {
      this.painter.move(this.photoAt(e));
    } else {
      const c = this.#canvasAt(e);
      this.ox = this.drag.ox + c.x - this.drag.at.x;
      this.oy = this.drag.oy + c.y - this.drag.at.y;
      this.#clamp();
    }
    this.draw();
  }

  #up(e) {
    if (!this.drag || e.pointerId !== this.drag.id) return;
    if (this.drag.paint) this.painter.end();
    this.drag = null;
    this.draw();
  }

  #wheel(e) {
    if (!this.image) return;
    e.preventDefault();
    const c = this.#canvasAt(e);
    this.#zoomAt(this.s * Math.exp(-e.deltaY * 0.002), c.x, c.y);
  }
}
