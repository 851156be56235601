// png.js: just enough PNG for the tests — encode RGBA, decode the 8-bit
// RGB and RGBA images that Go's image/png writes (every row filter, no
// interlacing) — so pixels are compared exactly, without a canvas.
import zlib from 'node:zlib';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) {
    c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) {
    c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** encodePNG returns an 8-bit RGBA PNG of width×height RGBA pixels. */
export function encodePNG({ width, height, data }) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(height * (1 + 4 * width));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + 4 * width)] = 0; // filter: none
    Buffer.from(data.buffer, data.byteOffset + 4 * width * y, 4 * width).copy(raw, y * (1 + 4 * width) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** decodePNG returns {width, height, data} (RGBA) of an 8-bit RGB or RGBA PNG. */
export function decodePNG(buf) {
  if (!buf.subarray(0, 8).equals(SIGNATURE)) {
    throw new Error('png: not a PNG file');
  }
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat = [];
  for (let off = 8; off < buf.length;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, color, , , interlace] = data.subarray(8);
      channels = { 2: 3, 6: 4 }[color];
      if (depth !== 8 || !channels || interlace !== 0) {
        throw new Error(`png: only 8-bit non-interlaced RGB or RGBA (depth ${depth}, colour type ${color}, interlace ${interlace})`);
      }
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = channels * width;
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = rows.subarray(y * stride, (y + 1) * stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] : 0;
      const b = y > 0 ? rows[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? rows[(y - 1) * stride + x - channels] : 0;
      out[x] = (line[x] + unfilter(filter, a, b, c)) & 0xff;
    }
  }
  const rgba = new Uint8ClampedArray(4 * width * height);
  for (let i = 0; i < width * height; i++) {
    for (let k = 0; k < 4; k++) {
      rgba[4 * i + k] = k < channels ? rows[channels * i + k] : 255;
    }
  }
  return { width, height, data: rgba };
}

function unfilter(filter, a, b, c) {
  switch (filter) {
    case 0: return 0;
    case 1: return a;
    case 2: return b;
    case 3: return (a + b) >> 1;
    case 4: {
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
    default: throw new Error(`png: unknown row filter ${filter}`);
  }
}

/** crop returns the w×h region of img at (x, y). */
export function crop(img, x, y, w, h) {
  const data = new Uint8ClampedArray(4 * w * h);
  for (let i = 0; i < h; i++) {
    data.set(img.data.subarray(4 * ((y + i) * img.width + x), 4 * ((y + i) * img.width + x + w)), 4 * i * w);
  }
  return { width: w, height: h, data };
}

/** psnr returns the PSNR in dB of the RGB channels of two RGBA images of one size. */
export function psnr(a, b) {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`psnr: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  }
  let se = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 !== 3) {
      se += (a.data[i] - b.data[i]) ** 2;
    }
  }
  const mse = se / (3 * a.width * a.height);
  return mse === 0 ? Infinity : 10 * Math.log10(255 ** 2 / mse);
}
