/**
 * Lossless trimming of stats.jsonl for --resume: the ticks after the snapshot being resumed from
 * are redone, so their lines must leave stats.jsonl — but nothing is ever deleted. Every line up to
 * the cut stays byte for byte (whatever it holds: lines with bare NaN/Infinity, garbage, CRLF);
 * the lines from the cut on are appended (fsynced) to `stats.jsonl.rejected` before stats.jsonl is
 * atomically replaced by its kept prefix. The cut is the first line that parses (leniently, as the
 * readers parse) with a `Progress/kimg` past the snapshot.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { parseJsonLenient } from '../../shared/jsonl';
import { withPath, writeFileAtomic } from './fsAtomic';
import { faultPoint } from './faultPoint';

export const STATS_REJECTED_SUFFIX = '.rejected';

export interface StatsTrimResult {
  /** Lines kept in stats.jsonl. */
  kept: number;
  /** Lines moved to stats.jsonl.rejected (0: stats.jsonl was not touched). */
  moved: number;
  /** Lines that did not parse (kept in place, or moved when after the cut). */
  unparsed: number;
  rejectedFile?: string;
}

/** `Progress/kimg` of one stats line (lenient JSON), or undefined when the line has none. */
export function statsLineKimg(line: string): number | undefined {
  const v = parseJsonLenient(line.trim()) as Record<string, unknown> | undefined;
  if (!v || typeof v !== 'object') return undefined;
  const k = v['Progress/kimg'];
  if (typeof k === 'number') return k;
  if (k && typeof k === 'object' && typeof (k as { mean?: unknown }).mean === 'number') return (k as { mean: number }).mean;
  return undefined;
}

/** Moves the lines past `kimg` from `file` (stats.jsonl) to `file + '.rejected'`; see the file comment. */
export async function trimStatsAfter(file: string, kimg: number): Promise<StatsTrimResult> {
  let buf: Buffer;
  try {
    buf = await fsp.readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kept: 0, moved: 0, unparsed: 0 };
    throw withPath(e, file);
  }
  // Raw line spans, each including its '\n' (the last may have none: a line torn by a crash).
  const spans: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < buf.length;) {
    const nl = buf.indexOf(0x0a, start);
    const end = nl < 0 ? buf.length : nl + 1;
    spans.push({ start, end });
    start = end;
  }
  let cut = spans.length;
  let unparsed = 0;
  for (let i = 0; i < spans.length; i++) {
    const text = buf.subarray(spans[i].start, spans[i].end).toString('utf8');
    if (!text.trim()) continue;
    const k = statsLineKimg(text);
    if (k === undefined) { unparsed++; continue; }
    if (k > kimg + 1e-9 && cut === spans.length) cut = i;
  }
  if (cut === spans.length) return { kept: spans.filter((s) => s.end > s.start).length, moved: 0, unparsed };
  const keepBytes = spans[cut].start;
  let moved = buf.subarray(keepBytes);
  if (moved.length && moved[moved.length - 1] !== 0x0a) moved = Buffer.concat([moved, Buffer.from('\n')]);
  const rejected = file + STATS_REJECTED_SUFFIX;
  // Appended and fsynced first: if we die between the two writes, the lines exist twice, never zero times.
  const fh = await fsp.open(rejected, 'a');
  try {
    const { size } = await fh.stat();
    if (size > 0) {
      const last = Buffer.alloc(1);
      const rfh = await fsp.open(rejected, 'r');
      try { await rfh.read(last, 0, 1, size - 1); } finally { await rfh.close(); }
      if (last[0] !== 0x0a) await fh.write('\n');
    }
    await fh.write(moved);
    await fh.sync();
  } finally {
    await fh.close();
  }
  faultPoint('stats-trim');
  await writeFileAtomic(file, buf.subarray(0, keepBytes));
  return { kept: cut, moved: spans.length - cut, unparsed, rejectedFile: path.basename(rejected) };
}
