/**
 * PyTorch's serialisation formats, read without executing anything:
 *  - the legacy `torch.save` stream (also what `torch.storage._load_from_bytes` wraps inside every
 *    tensor of an official pickle): five pickles — magic number, protocol 1001, sys info, the object
 *    with persistent storage ids, the sorted storage keys — then per key an int64 element count and
 *    the raw little-endian elements;
 *  - the zip format of `torch.save` (PyTorch ≥ 1.6): `<name>/data.pkl` plus stored (uncompressed)
 *    `<name>/data/<key>` entries;
 *  - a plain pickle (what `pickle.dump` / the official training loop writes).
 */
import { PickleError } from './errors';
import { unpickle, storageFromPid, type UnpickleOptions } from './unpickler';
import { type ByteSlice, type ByteSource, SliceSource, SourceReader } from './source';
import { ELEMENT_SIZE, type PyBytes, PyDict, type PyValue, type TorchStorage } from './values';

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Options of the top-level pickle: nested legacy blobs become storages. */
export function pickleOptions(): UnpickleOptions {
  return { loadFromBytes: (b: PyBytes) => readLegacyStream(new SliceSource(b.slice)) };
}

/** Reads a legacy torch.save stream from a whole source; returns the saved object. */
export function readLegacyStream(source: ByteSource): PyValue {
  const r = new SourceReader(source);
  const file = source.name;
  const magic = unpickle(r);
  if (magic !== LEGACY_MAGIC && BigInt(typeof magic === 'number' || typeof magic === 'bigint' ? magic : -1) !== LEGACY_MAGIC) {
    throw new PickleError('not a torch.save stream (bad magic number)', file);
  }
  const proto = unpickle(r);
  if (proto !== LEGACY_PROTOCOL) throw new PickleError(`torch.save protocol ${String(proto)} is not supported (expected ${LEGACY_PROTOCOL})`, file);
  const sys = unpickle(r);
  if (sys instanceof PyDict && sys.get('little_endian') === false) throw new PickleError('big-endian torch.save files are not supported', file);
  const storages = new Map<string, TorchStorage>();
  const obj = unpickle(r, {
    ...pickleOptions(),
    persistentLoad: (pid) => {
      const s = storageFromPid(pid, file);
      const seen = storages.get(s.key);
      if (seen) return seen;
      storages.set(s.key, s);
      return s;
    },
  });
  const keys = unpickle(r);
  if (!Array.isArray(keys)) throw new PickleError('torch.save storage key list is missing', file);
  for (const k of keys) {
    const s = storages.get(String(k));
    const count = r.u64();
    if (!s) throw new PickleError(`torch.save lists storage '${String(k)}' that no tensor uses`, file);
    if (count !== s.numel) throw new PickleError(`storage '${s.key}' declares ${s.numel} elements but its data holds ${count}`, file);
    s.data = r.skipSlice(count * ELEMENT_SIZE[s.dtype]);
  }
  for (const s of storages.values()) if (!s.data) throw new PickleError(`storage '${s.key}' has no data (truncated file)`, file);
  return obj;
}

/** The format of a file from its first bytes. */
export function detectFormat(source: ByteSource): 'zip' | 'legacy' | 'pickle' {
  const head = new Uint8Array(Math.min(16, source.length));
  source.readInto(0, head);
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  // legacy torch.save starts with a pickled LONG1 magic number: 80 02 8a 0a 6c fc 9c 46 f9 20 6a a8 50 19
  if (head[0] === 0x80 && head[2] === 0x8a && head[3] === 0x0a && head[4] === 0x6c && head[5] === 0xfc) return 'legacy';
  if (head[0] === 0x80) return 'pickle';
  throw new PickleError('not a pickle (it does not start with a pickle protocol header)', source.name, 'Is this really a network-snapshot-*.pkl? It may be truncated or another kind of file.');
}

/** Reads any of the three formats. */
export function readTorchSource(source: ByteSource): PyValue {
  const fmt = detectFormat(source);
  if (fmt === 'legacy') return readLegacyStream(source);
  if (fmt === 'zip') return readZip(source);
  const r = new SourceReader(source);
  return unpickle(r, pickleOptions());
}

interface ZipEntry { name: string; slice: ByteSlice }

/** Stored (uncompressed) entries of a zip, from its central directory. */
function zipEntries(source: ByteSource): ZipEntry[] {
  const file = source.name;
  const tailLen = Math.min(source.length, 65557);
  const tail = new Uint8Array(tailLen);
  source.readInto(source.length - tailLen, tail);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) if (tail[i] === 0x50 && tail[i + 1] === 0x4b && tail[i + 2] === 0x05 && tail[i + 3] === 0x06) { eocd = i; break; }
  if (eocd < 0) throw new PickleError('zip end record not found (truncated file)', file);
  const dv = new DataView(tail.buffer, eocd);
  let count = dv.getUint16(10, true);
  let cdSize = dv.getUint32(12, true);
  let cdOff = dv.getUint32(16, true);
  if (cdOff === 0xffffffff || count === 0xffff) {
    // zip64: locator right before the end record
    const loc = new DataView(tail.buffer, eocd - 20, 20);
    if (loc.getUint32(0, true) !== 0x07064b50) throw new PickleError('zip64 locator missing', file);
    const recOff = Number(loc.getBigUint64(8, true));
    const rec = new Uint8Array(56);
    source.readInto(recOff, rec);
    const rv = new DataView(rec.buffer);
    count = Number(rv.getBigUint64(32, true));
    cdSize = Number(rv.getBigUint64(40, true));
    cdOff = Number(rv.getBigUint64(48, true));
  }
  if (cdOff + cdSize > source.length) throw new PickleError('zip directory outside the file (truncated)', file);
  const cd = new Uint8Array(cdSize);
  source.readInto(cdOff, cd);
  const v = new DataView(cd.buffer);
  const out: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (v.getUint32(p, true) !== 0x02014b50) throw new PickleError('corrupt zip directory', file);
    const method = v.getUint16(p + 10, true);
    let csize = v.getUint32(p + 20, true);
    const nameLen = v.getUint16(p + 28, true), extraLen = v.getUint16(p + 30, true), commentLen = v.getUint16(p + 32, true);
    let localOff = v.getUint32(p + 42, true);
    const name = Buffer.from(cd.subarray(p + 46, p + 46 + nameLen)).toString('utf8');
    // zip64 extra field
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = v.getUint16(e, true), len = v.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (v.getUint32(p + 24, true) === 0xffffffff) q += 8; // usize
        if (csize === 0xffffffff) { csize = Number(v.getBigUint64(q, true)); q += 8; }
        if (localOff === 0xffffffff) localOff = Number(v.getBigUint64(q, true));
      }
      e += 4 + len;
    }
    p = eEnd + commentLen;
    if (method !== 0) throw new PickleError(`zip entry ${name} is compressed; torch.save writes stored entries`, file);
    const lh = new Uint8Array(30);
    source.readInto(localOff, lh);
    const lv = new DataView(lh.buffer);
    if (lv.getUint32(0, true) !== 0x04034b50) throw new PickleError(`corrupt zip entry ${name}`, file);
    const dataOff = localOff + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataOff + csize > source.length) throw new PickleError(`zip entry ${name} extends past the end of the file (truncated)`, file);
    out.push({ name, slice: { source, offset: dataOff, length: csize } });
  }
  return out;
}

/** torch.save's zip format. */
function readZip(source: ByteSource): PyValue {
  const file = source.name;
  const entries = zipEntries(source);
  const pkl = entries.find((e) => /(^|\/)data\.pkl$/.test(e.name));
  if (!pkl) throw new PickleError('zip file without data.pkl: not a torch.save file', file);
  const prefix = pkl.name.slice(0, -'data.pkl'.length);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const storages = new Map<string, TorchStorage>();
  return unpickle(new SourceReader(new SliceSource(pkl.slice)), {
    ...pickleOptions(),
    persistentLoad: (pid) => {
      const s = storageFromPid(pid, file);
      const seen = storages.get(s.key);
      if (seen) return seen;
      const entry = byName.get(`${prefix}data/${s.key}`);
      if (!entry) throw new PickleError(`storage data/${s.key} is missing from the zip`, file);
      const need = s.numel * ELEMENT_SIZE[s.dtype];
      if (entry.slice.length < need) throw new PickleError(`storage data/${s.key} holds ${entry.slice.length} bytes, needs ${need}`, file);
      s.data = { source, offset: entry.slice.offset, length: need };
      storages.set(s.key, s);
      return s;
    },
  });
}

