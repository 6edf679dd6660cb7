/**
 * PNG/JPEG decoding to plain 8-bit HWC pixels, and PNG encoding. No tfjs: plain typed arrays.
 */
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { UserError } from '../errors';

/** A decoded 8-bit image, pixels in HWC order (row-major, channels interleaved). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

export type ImageFormat = 'png' | 'jpeg';

/** Largest image we agree to decode (pixels); protects against decompression bombs. */
export const MAX_IMAGE_PIXELS = 100e6;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Image format from the first bytes of the file (extensions lie), or null when neither PNG nor JPEG. */
export function sniffImageFormat(buf: Uint8Array): ImageFormat | null {
  if (buf.length >= 8 && PNG_MAGIC.every((b, i) => buf[i] === b)) return 'png';
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg';
  return null;
}

/** Decodes a PNG (1/2/4/8/16-bit, gray/gray+alpha/RGB/RGBA/palette) or JPEG; UserError naming the file otherwise. */
export function decodeImage(buf: Buffer, nameForErrors: string): RawImage {
  const fmt = sniffImageFormat(buf);
  if (!fmt) {
    throw new UserError(`Cannot read image ${nameForErrors}: not a PNG or JPEG file (unknown signature).`);
  }
  try {
    return fmt === 'png' ? decodePng(buf) : decodeJpeg(buf);
  } catch (e) {
    let why = e instanceof Error ? e.message : String(e);
    if (/read requests waitng|unexpected end|ends? early/i.test(why)) why = 'the file ends early';
    throw new UserError(`Cannot read image ${nameForErrors}: corrupt or truncated ${fmt.toUpperCase()} (${why}).`);
  }
}

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new Error(`invalid size ${width}×${height}`);
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new Error(`${width}×${height} is larger than the ${MAX_IMAGE_PIXELS / 1e6} MP limit`);
  }
}

function decodePng(buf: Buffer): RawImage {
  if (buf.length < 33) throw new Error('file ends inside the header');
  checkSize(buf.readUInt32BE(16), buf.readUInt32BE(20)); // IHDR is always the first chunk
  // pngjs always returns 8-bit RGBA (16-bit rescaled, palette expanded, tRNS applied);
  // the metadata tells which channels the file really had.
  const png = PNG.sync.read(buf) as PNG & { color?: boolean; alpha?: boolean };
  const { width, height } = png;
  const rgba = png.data;
  const n = width * height;
  const hasColor = png.color === true;
  const hasAlpha = png.alpha === true;
  if (!hasColor && !hasAlpha) {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = rgba[i * 4];
    return { width, height, channels: 1, data };
  }
  if (hasColor && !hasAlpha) {
    const data = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      data[i * 3] = rgba[i * 4];
      data[i * 3 + 1] = rgba[i * 4 + 1];
      data[i * 3 + 2] = rgba[i * 4 + 2];
    }
    return { width, height, channels: 3, data };
  }
  // Gray+alpha has no 2-channel RawImage form: keep it as RGBA with equal R=G=B.
  return { width, height, channels: 4, data: new Uint8Array(rgba.buffer, rgba.byteOffset, n * 4).slice() };
}

/** Number of components in the first SOF segment of a JPEG (1 = grayscale), or 0 if not found. */
export function jpegComponents(buf: Uint8Array): number {
  let p = 2;
  while (p + 4 <= buf.length) {
    if (buf[p] !== 0xff) return 0;
    const m = buf[p + 1];
    if (m === 0xff) { p++; continue; } // fill byte
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { p += 2; continue; } // no length
    const len = (buf[p + 2] << 8) | buf[p + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC): byte 9 of the segment is Nf.
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return p + 9 < buf.length ? buf[p + 9] : 0;
    }
    if (m === 0xda) return 0; // start of scan before any frame header
    p += 2 + len;
  }
  return 0;
}

function decodeJpeg(buf: Buffer): RawImage {
  const img = jpeg.decode(buf, {
    useTArray: true,
    formatAsRGBA: false,
    tolerantDecoding: true,
    maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
    maxMemoryUsageInMB: 2048,
  });
  const { width, height } = img;
  checkSize(width, height);
  const rgb = img.data;
  if (rgb.length !== width * height * 3) throw new Error('decoder returned an incomplete image');
  if (jpegComponents(buf) === 1) {
    // jpeg-js expands grayscale to RGB; keep the single channel so "gray" stays detectable.
    const n = width * height;
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = rgb[i * 3];
    return { width, height, channels: 1, data };
  }
  return { width, height, channels: 3, data: rgb };
}

/** Encodes an 8-bit image losslessly as PNG (gray, RGB or RGBA colour type to match `channels`). */
export function encodePng(img: RawImage): Buffer {
  const { width, height, channels, data } = img;
  if (data.length !== width * height * channels) {
    throw new Error(`encodePng: data has ${data.length} bytes, expected ${width}×${height}×${channels}`);
  }
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const png = new PNG({ width, height, colorType, inputColorType: colorType, inputHasAlpha: channels === 4, bitDepth: 8 });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.length);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: channels === 4, bitDepth: 8 });
}
