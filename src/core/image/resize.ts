/**
 * Image → model input: channel conversion (luma / replication / alpha over black), center crop to a
 * square, and resampling (area average when shrinking, bilinear when enlarging). Plain typed arrays.
 */
import type { RawImage } from './codec';

/** ITU-R BT.601 luma weights (what PIL's convert('L') uses). */
const LUMA_R = 0.299;
const LUMA_G = 0.587;
const LUMA_B = 0.114;

/** Pixels converted to `channels` (1 or 3) as floats in [0,255], HWC; alpha is composited over black. */
export function toChannelsFloat(img: RawImage, channels: 1 | 3): Float32Array {
  const { width, height, channels: src, data } = img;
  const n = width * height;
  if (data.length !== n * src) throw new Error(`image data has ${data.length} bytes, expected ${width}×${height}×${src}`);
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    let r: number, g: number, b: number;
    if (src === 1) {
      r = g = b = data[i];
    } else {
      const o = i * src;
      r = data[o]; g = data[o + 1]; b = data[o + 2];
      if (src === 4) {
        const a = data[o + 3] / 255;
        r *= a; g *= a; b *= a;
      }
    }
    if (channels === 1) {
      out[i] = src === 1 ? r : LUMA_R * r + LUMA_G * g + LUMA_B * b;
    } else {
      out[i * 3] = r; out[i * 3 + 1] = g; out[i * 3 + 2] = b;
    }
  }
  return out;
}

/** Sparse 1-D resampling weights: output i reads `count[i]` source pixels from `start[i]`. */
interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  offset: Int32Array; // index of the first weight of output i in `w`
  w: Float32Array;
}

/**
 * Weights mapping source pixels [off, off+len) to `dst` outputs: exact area coverage when
 * shrinking (or equal size: identity), bilinear with half-pixel centres when enlarging.
 */
function axisWeights(off: number, len: number, dst: number): AxisWeights {
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const offset = new Int32Array(dst);
  const ws: number[] = [];
  const scale = len / dst;
  for (let i = 0; i < dst; i++) {
    offset[i] = ws.length;
    if (scale >= 1) {
      const a = i * scale;
      const b = (i + 1) * scale;
      const k0 = Math.floor(a);
      const k1 = Math.min(len, Math.ceil(b));
      start[i] = off + k0;
      for (let k = k0; k < k1; k++) ws.push((Math.min(b, k + 1) - Math.max(a, k)) / scale);
      count[i] = k1 - k0;
    } else {
      const x = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), len - 1);
      const k0 = Math.min(Math.floor(x), len - 1);
      const f = x - k0;
      start[i] = off + k0;
      if (f > 0 && k0 + 1 < len) {
        ws.push(1 - f, f);
        count[i] = 2;
      } else {
        ws.push(1);
        count[i] = 1;
      }
    }
  }
  // Renormalise so a constant image stays exactly constant despite float rounding.
  const w = new Float32Array(ws);
  for (let i = 0; i < dst; i++) {
    let s = 0;
    for (let j = 0; j < count[i]; j++) s += w[offset[i] + j];
    for (let j = 0; j < count[i]; j++) w[offset[i] + j] /= s;
  }
  return { start, count, offset, w };
}

/**
 * Center-crops HWC float pixels to a square and resamples to res×res → uint8 HWC (rounded, clamped).
 * `crop` follows StyleGAN2-ADA's dataset_tool: side = min(w,h), offset floor((w−side)/2).
 */
export function cropResize(src: Float32Array, width: number, height: number, channels: number, res: number): Uint8Array {
  const side = Math.min(width, height);
  const ox = Math.floor((width - side) / 2);
  const oy = Math.floor((height - side) / 2);
  const wx = axisWeights(ox, side, res);
  const wy = axisWeights(oy, side, res);
  const C = channels;
  // Horizontal pass over the cropped rows only: tmp is [side, res, C].
  const tmp = new Float32Array(side * res * C);
  const xs = wx.start, xc = wx.count, xo = wx.offset, xw = wx.w;
  for (let y = 0; y < side; y++) {
    const rowIn = (oy + y) * width * C;
    let t = y * res * C;
    for (let x = 0; x < res; x++) {
      const cnt = xc[x], wo = xo[x];
      const base = rowIn + xs[x] * C;
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let j = 0, q = base + c; j < cnt; j++, q += C) acc += xw[wo + j] * src[q];
        tmp[t++] = acc;
      }
    }
  }
  // Vertical pass: [side, res, C] → [res, res, C].
  const out = new Uint8Array(res * res * C);
  const rowLen = res * C;
  const ys = wy.start, yc = wy.count, yo = wy.offset, yw = wy.w;
  const acc = new Float32Array(rowLen);
  for (let y = 0; y < res; y++) {
    acc.fill(0);
    const cnt = yc[y], wo = yo[y];
    for (let j = 0; j < cnt; j++) {
      const wgt = yw[wo + j];
      const r = (ys[y] - oy + j) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += wgt * tmp[r + i];
    }
    const o = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      const v = Math.round(acc[i]);
      out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

/**
 * Model input for one image: converted to `channels` (RGB→gray by BT.601 luma, gray→RGB by
 * replication, alpha composited over black), center-cropped to a square, resampled to
 * resolution×resolution. Returns uint8 HWC of length resolution²·channels.
 */
export function toModelImage(img: RawImage, resolution: number, channels: 1 | 3): Uint8Array {
  if (!Number.isInteger(resolution) || resolution < 1) throw new Error(`toModelImage: bad resolution ${resolution}`);
  // Fast path: already the right shape and channel layout (common for prepared datasets).
  if (img.width === resolution && img.height === resolution && img.channels === channels) {
    return img.data.slice();
  }
  return cropResize(toChannelsFloat(img, channels), img.width, img.height, channels, resolution);
}
