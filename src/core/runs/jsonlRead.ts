/**
 * Reading whole JSONL files (streamed, so memory stays bounded by the records kept) and the tail of
 * one (reading backwards from the end): stats.jsonl, metric-*.jsonl, log.txt.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../errors';
import type { MetricLine, StatsLine } from '../../shared/runTypes';
import { asMetricLine, asStatsLine, JsonlDecoder, parseJsonLenient, type RecordGuard } from '../../shared/jsonl';
import { isTempName } from './fsAtomic';
import { fsErrorCode } from './fsErrors';
import { errMsg } from './jsonFile';
import { METRIC_RE } from './runDir';

/** The last `count` valid records of a JSONL file, oldest first, reading backwards from the end (at most `maxBytes`). */
export async function readJsonlTail<T>(file: string, guard: RecordGuard<T>, count = 1, maxBytes = 4 * 1024 * 1024): Promise<T[]> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch {
    return [];
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return []; // a folder where the log should be: the writer reports it by name
    const { size } = st;
    const found: T[] = [];
    const consider = (bytes: Buffer) => {
      const line = bytes.toString('utf8').trim();
      if (!line) return;
      // A last line without '\n' is parsed too: a completed final line counts, a torn one fails the guard.
      const rec = guard(parseJsonLenient(line));
      if (rec !== undefined) found.unshift(rec);
    };
    const CHUNK = 64 * 1024;
    let pos = size;
    let carry = Buffer.alloc(0); // start of a line whose beginning lies before `pos`
    while (pos > 0 && size - pos < maxBytes && found.length < count) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      const data = Buffer.concat([buf, carry]);
      let end = data.length;
      for (let i = data.length - 1; i >= 0 && found.length < count; i--) {
        if (data[i] !== 0x0a) continue;
        consider(data.subarray(i + 1, end));
        end = i;
      }
      if (pos === 0 && found.length < count) {
        consider(data.subarray(0, end));
        end = 0;
      }
      carry = data.subarray(0, end);
    }
    return found;
  } finally {
    await fh.close();
  }
}

/** The last `bytes` bytes of a text file as UTF-8; undefined when it cannot be opened. */
export async function readTextTail(file: string, bytes: number): Promise<string | undefined> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Streams a JSONL file through `guard`; `onRecord` sees each valid record. Missing file → 0 skipped, no records. */
export async function streamJsonl<T>(file: string, guard: RecordGuard<T>, onRecord: (r: T) => void): Promise<{ skipped: number }> {
  const dec = new JsonlDecoder(guard);
  const sd = new StringDecoder('utf8'); // holds a UTF-8 sequence split across chunks
  let skipped = 0;
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) {
      const b = dec.push(sd.write(chunk as Buffer));
      skipped += b.skipped;
      for (const r of b.records) onRecord(r);
    }
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT') return { skipped: 0 };
    throw new UserError(`Cannot read ${file}: ${errMsg(e)}`);
  }
  const tailText = sd.end();
  const b1 = dec.push(tailText);
  const b2 = dec.end(); // a final line without '\n': kept if complete, counted as skipped if torn
  for (const r of [...b1.records, ...b2.records]) onRecord(r);
  return { skipped: skipped + b1.skipped + b2.skipped };
}

/** Reads stats.jsonl, streamed; garbage lines and a torn last line are skipped and counted. `keep` filters stat names to save memory. */
export async function readStats(file: string, opts: { keep?: (name: string) => boolean } = {}): Promise<{ lines: StatsLine[]; skipped: number }> {
  const lines: StatsLine[] = [];
  const keep = opts.keep;
  const { skipped } = await streamJsonl(file, asStatsLine, (l) => {
    if (!keep) {
      lines.push(l);
      return;
    }
    const out: Record<string, unknown> = { timestamp: l.timestamp };
    for (const k of Object.keys(l)) if (k !== 'timestamp' && keep(k)) out[k] = l[k];
    lines.push(out as StatsLine);
  });
  return { lines, skipped };
}

/** Every metric-<name>.jsonl of a run, keyed by <name>; bad lines skipped. Missing folder → {}. */
export async function readMetrics(runDir: string): Promise<Record<string, MetricLine[]>> {
  let names: string[];
  try {
    names = await fsp.readdir(runDir);
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT') return {};
    throw new UserError(`Cannot read run folder ${runDir}: ${errMsg(e)}`);
  }
  const out: Record<string, MetricLine[]> = {};
  for (const n of names.sort()) {
    const m = METRIC_RE.exec(n);
    if (!m || isTempName(n)) continue;
    const lines: MetricLine[] = [];
    await streamJsonl(path.join(runDir, n), asMetricLine, (l) => lines.push(l));
    out[m[1]] = lines;
  }
  return out;
}
