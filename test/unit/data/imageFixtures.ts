/**
 * Real PNG/JPEG byte streams for tests, written by encoders (pngjs, jpeg-js) or assembled by hand
 * where no encoder here writes that variant (palette PNG, grayscale JPEG).
 */
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';

/** PNG via pngjs with an explicit colour type and bit depth; `values` are samples in file order. */
export function pngWith(width: number, height: number, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16, values: number[]): Buffer {
  const png = new PNG({ width, height, colorType, inputColorType: colorType, bitDepth, inputHasAlpha: colorType >= 4 });
  png.data = bitDepth === 16 ? Buffer.from(new Uint16Array(values).buffer) : Buffer.from(values);
  return PNG.sync.write(png, { colorType, inputColorType: colorType, bitDepth, inputHasAlpha: colorType >= 4 });
}

function chunk(type: string, body: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const tb = Buffer.concat([Buffer.from(type, 'latin1'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(tb) >>> 0);
  return Buffer.concat([len, tb, crc]);
}

/** 8-bit palette PNG (colour type 3) with optional tRNS alphas; `indices` row-major. */
export function palettePng(width: number, height: number, palette: [number, number, number][], indices: number[], alphas?: number[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 3; // bit depth 8, colour type 3
  const rows: number[] = [];
  for (let y = 0; y < height; y++) rows.push(0, ...indices.slice(y * width, (y + 1) * width)); // filter 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from(palette.flat())),
    ...(alphas ? [chunk('tRNS', Buffer.from(alphas))] : []),
    chunk('IDAT', zlib.deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** RGB JPEG via jpeg-js; `rgb` is HWC. */
export function rgbJpeg(width: number, height: number, rgb: Uint8Array, quality = 95): Buffer {
  const rgba = Buffer.alloc(width * height * 4, 255);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < 3; c++) rgba[i * 4 + c] = rgb[i * 3 + c];
  return jpeg.encode({ width, height, data: rgba }, quality).data;
}

/**
 * Baseline single-component (grayscale) JPEG whose 8×8 blocks are constant: block b has value
 * blockValues[b] (row-major blocks). Quantisation 1, DC-only, standard luminance DC Huffman table,
 * an AC table holding only EOB. Width/height must be multiples of 8.
 */
export function grayJpeg(width: number, height: number, blockValues: number[]): Buffer {
  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];
  const dcBits = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
  const dcVals = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  // Canonical codes of the standard DC table, by category.
  const dcCode: [number, number][] = [];
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < dcBits[len - 1]; i++) dcCode[dcVals[k++]] = [code++, len];
    code <<= 1;
  }
  const bits: number[] = [];
  const put = (v: number, n: number) => { for (let i = n - 1; i >= 0; i--) bits.push((v >> i) & 1); };
  let prev = 0;
  for (const v of blockValues) {
    const dc = 8 * (v - 128); // FDCT DC term of a constant block
    const diff = dc - prev;
    prev = dc;
    const cat = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
    put(dcCode[cat][0], dcCode[cat][1]);
    if (cat > 0) put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
    put(0, 1); // AC: EOB has the one-bit code "0"
  }
  while (bits.length % 8) bits.push(1);
  const scan: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    let b = 0;
    for (let j = 0; j < 8; j++) b = (b << 1) | bits[i + j];
    scan.push(b);
    if (b === 0xff) scan.push(0); // byte stuffing
  }
  return Buffer.from([
    0xff, 0xd8,
    ...seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    ...seg(0xc0, [8, height >> 8, height & 255, width >> 8, width & 255, 1, 1, 0x11, 0]),
    ...seg(0xc4, [0x00, ...dcBits, ...dcVals]),
    ...seg(0xc4, [0x10, 1, ...new Array(15).fill(0), 0x00]),
    ...seg(0xda, [1, 1, 0x00, 0, 63, 0]),
    ...scan,
    0xff, 0xd9,
  ]);
}
