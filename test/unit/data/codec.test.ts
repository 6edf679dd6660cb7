import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeImage, encodePng, jpegComponents, sniffImageFormat, type RawImage } from '../../../src/core/image/codec';
import { isUserError } from '../../../src/core/errors';
import { grayJpeg, palettePng, pngWith, rgbJpeg } from './imageFixtures';

function pattern(width: number, height: number, channels: 1 | 3 | 4): RawImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) % 256;
  return { width, height, channels, data };
}

function assertUserError(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isUserError(e), `expected UserError, got ${String(e)}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

test('PNG round trip is exact for gray, RGB and RGBA', () => {
  for (const ch of [1, 3, 4] as const) {
    const img = pattern(7, 5, ch);
    const back = decodeImage(encodePng(img), `rt${ch}.png`);
    assert.equal(back.width, 7);
    assert.equal(back.height, 5);
    assert.equal(back.channels, ch);
    assert.deepEqual(Buffer.from(back.data), Buffer.from(img.data));
  }
});

test('16-bit PNGs (gray and RGB) are rescaled to 8 bit', () => {
  const g = decodeImage(pngWith(3, 1, 0, 16, [65535, 257 * 100, 0]), 'g16.png');
  assert.equal(g.channels, 1);
  assert.deepEqual([...g.data], [255, 100, 0]);
  const c = decodeImage(pngWith(1, 1, 2, 16, [65535, 257 * 7, 0]), 'c16.png');
  assert.equal(c.channels, 3);
  assert.deepEqual([...c.data], [255, 7, 0]);
});

test('gray+alpha PNG becomes RGBA with equal colour samples', () => {
  const ga = decodeImage(pngWith(2, 1, 4, 8, [10, 255, 20, 128]), 'ga.png');
  assert.equal(ga.channels, 4);
  assert.deepEqual([...ga.data], [10, 10, 10, 255, 20, 20, 20, 128]);
});

test('palette PNG expands to RGB, or RGBA with tRNS', () => {
  const p = decodeImage(palettePng(2, 2, [[255, 0, 0], [0, 0, 255]], [0, 1, 1, 0]), 'pal.png');
  assert.equal(p.channels, 3);
  assert.deepEqual([...p.data], [255, 0, 0, 0, 0, 255, 0, 0, 255, 255, 0, 0]);
  const t = decodeImage(palettePng(2, 1, [[255, 0, 0], [0, 0, 255]], [0, 1], [255, 0]), 'palt.png');
  assert.equal(t.channels, 4);
  assert.deepEqual([...t.data], [255, 0, 0, 255, 0, 0, 255, 0]);
});

test('JPEG: RGB decodes close to the source; grayscale JPEG stays 1 channel', () => {
  const src = pattern(16, 16, 3);
  for (let i = 0; i < src.data.length; i++) src.data[i] = 60 + ((i / 3) | 0) % 16 * 8; // smooth ramp: small JPEG error
  const buf = rgbJpeg(16, 16, src.data, 100);
  assert.equal(jpegComponents(buf), 3);
  const j = decodeImage(buf, 'ramp.jpg');
  assert.equal(j.channels, 3);
  let maxErr = 0;
  for (let i = 0; i < src.data.length; i++) maxErr = Math.max(maxErr, Math.abs(j.data[i] - src.data[i]));
  assert.ok(maxErr <= 8, `max error ${maxErr}`);

  const gbuf = grayJpeg(16, 8, [30, 200]);
  assert.equal(jpegComponents(gbuf), 1);
  const g = decodeImage(gbuf, 'gray.jpg');
  assert.equal(g.channels, 1);
  assert.equal(g.width, 16);
  assert.equal(g.height, 8);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 16; x++) assert.ok(Math.abs(g.data[y * 16 + x] - (x < 8 ? 30 : 200)) <= 1);
  }
});

test('format is detected from the bytes, not the name', () => {
  const png = encodePng(pattern(2, 2, 3));
  assert.equal(sniffImageFormat(png), 'png');
  assert.equal(decodeImage(png, 'actually-png.jpg').channels, 3);
  const jpg = rgbJpeg(8, 8, new Uint8Array(192).fill(90));
  assert.equal(sniffImageFormat(jpg), 'jpeg');
  assert.equal(decodeImage(jpg, 'actually-jpeg.png').channels, 3);
  assert.equal(sniffImageFormat(Buffer.from('hello world')), null);
});

test('corrupt and truncated input gives a UserError naming the file', () => {
  const png = encodePng(pattern(16, 16, 3));
  assertUserError(() => decodeImage(Buffer.from('this is text, not an image'), 'notes.png'), /notes\.png.*not a PNG or JPEG/);
  assertUserError(() => decodeImage(png.subarray(0, png.length - 30), 'cut.png'), /cut\.png.*truncated PNG/);
  assertUserError(() => decodeImage(png.subarray(0, 20), 'tiny.png'), /tiny\.png/);
  const flipped = Buffer.from(png);
  flipped[45] ^= 0xff; // inside IDAT: CRC no longer matches
  assertUserError(() => decodeImage(flipped, 'crc.png'), /crc\.png.*corrupt/);
  const jpg = rgbJpeg(32, 32, pattern(32, 32, 3).data);
  assertUserError(() => decodeImage(jpg.subarray(0, Math.floor(jpg.length * 0.6)), 'cut.jpg'), /cut\.jpg.*JPEG/);
  assertUserError(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2, 3]), 'stub.jpg'), /stub\.jpg/);
});

test('encodePng rejects data of the wrong length', () => {
  assert.throws(() => encodePng({ width: 4, height: 4, channels: 3, data: new Uint8Array(10) }), /expected 4×4×3/);
});
