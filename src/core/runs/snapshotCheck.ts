/**
 * Cheap checks that a snapshot can be loaded, without loading it: one of our snapshot folders
 * (snapshot.json + weight shards of exactly the described size) or an official network pickle.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { errMsg, isObj, num, readJsonFile } from './jsonFile';

/** What a snapshot check found; `mtime` is the newest modification time seen (0 when none). */
export interface SnapshotCheck {
  loadable: boolean;
  reason?: string;
  mtime: number;
}

/**
 * Cheap check that a file can be an official network pickle (the safe unpickler reports anything
 * deeper when it is opened): not empty, and starting like a pickle or a torch.save zip.
 */
export async function checkPickleFile(file: string): Promise<SnapshotCheck> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(file, 'r');
    const st = await fh.stat();
    if (st.size === 0) return { loadable: false, reason: 'empty file (0 bytes): an interrupted copy or save?', mtime: st.mtimeMs };
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    if (head[0] !== 0x80 && !(head[0] === 0x50 && head[1] === 0x4b)) return { loadable: false, reason: 'not a pickle (wrong first bytes)', mtime: st.mtimeMs };
    return { loadable: true, mtime: st.mtimeMs };
  } catch (e) {
    return { loadable: false, reason: `cannot read: ${errMsg(e)}`, mtime: 0 };
  } finally {
    await fh?.close();
  }
}

/** Number of weight bytes a tfjs weights manifest describes, and the shard files holding them. */
export function manifestWeightBytes(manifest: unknown): { bytes: number; paths: string[] } | { error: string } {
  const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };
  const specBytes = (w: unknown): number | string => {
    if (!isObj(w) || !Array.isArray(w.shape) || typeof w.dtype !== 'string') return 'a weight entry lacks shape/dtype';
    const q = isObj(w.quantization) ? w.quantization.dtype : undefined;
    const per = DTYPE_BYTES[typeof q === 'string' ? q : w.dtype];
    if (per === undefined) return `unsupported dtype '${String(q ?? w.dtype)}' of ${String(w.name)}`;
    let n = 1;
    for (const d of w.shape) {
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return `bad shape of ${String(w.name)}`;
      n *= d;
    }
    return n * per;
  };
  let groups: unknown;
  let specs: unknown;
  if (Array.isArray(manifest)) groups = manifest;
  else if (isObj(manifest)) {
    groups = manifest.weightsManifest;
    specs = manifest.weightSpecs;
  }
  let bytes = 0;
  const paths: string[] = [];
  if (Array.isArray(groups)) {
    for (const g of groups) {
      if (!isObj(g) || !Array.isArray(g.weights)) return { error: 'weightsManifest group lacks weights' };
      if (Array.isArray(g.paths)) for (const p of g.paths) if (typeof p === 'string' && !paths.includes(p)) paths.push(p);
      for (const w of g.weights) {
        const b = specBytes(w);
        if (typeof b === 'string') return { error: b };
        bytes += b;
      }
    }
  } else if (Array.isArray(specs)) {
    for (const w of specs) {
      const b = specBytes(w);
      if (typeof b === 'string') return { error: b };
      bytes += b;
    }
  } else if (isObj(manifest) && num(manifest.weightDataBytes) !== undefined) {
    bytes = manifest.weightDataBytes as number;
  } else {
    return { error: 'snapshot.json has no weightsManifest' };
  }
  if (!paths.length) paths.push('weights.bin');
  return { bytes, paths };
}

/** Checks one of our snapshot folders: snapshot.json parses and the weight files hold exactly the bytes it describes. */
export async function checkSnapshotFolder(dir: string): Promise<SnapshotCheck> {
  const manifestFile = path.join(dir, 'snapshot.json');
  const r = await readJsonFile(manifestFile);
  if (r.kind === 'missing') return { loadable: false, reason: 'incomplete snapshot: snapshot.json is missing', mtime: 0 };
  if (r.kind === 'corrupt') return { loadable: false, reason: `corrupt snapshot: ${r.error}`, mtime: 0 };
  const m = manifestWeightBytes(r.value);
  if ('error' in m) return { loadable: false, reason: `corrupt snapshot: ${m.error}`, mtime: 0 };
  let total = 0;
  let mtime = 0;
  for (const p of m.paths) {
    if (p.includes('/') || p.includes('\\') || p === '..' || p === '.') {
      return { loadable: false, reason: `corrupt snapshot: weight path '${p}' leaves the snapshot folder`, mtime };
    }
    try {
      const st = await fsp.stat(path.join(dir, p));
      total += st.size;
      mtime = Math.max(mtime, st.mtimeMs);
    } catch {
      return { loadable: false, reason: `incomplete snapshot: ${p} is missing`, mtime };
    }
  }
  if (total !== m.bytes) {
    return { loadable: false, reason: `incomplete snapshot: ${m.paths.join('+')} hold ${total} bytes, snapshot.json describes ${m.bytes}`, mtime };
  }
  return { loadable: true, mtime };
}
