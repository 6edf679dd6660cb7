/**
 * Synthetic stats.jsonl files shaped like our trainer's (the keys GanTrainer and the training loop
 * report, StatValue objects with full-precision doubles), for the loss-panel benchmarks.
 */
import * as fs from 'node:fs';
import { Rng } from '../src/core/util/rng';

const STAT_KEYS = [
  'Loss/scores/fake', 'Loss/G/loss', 'Loss/D/loss', 'Loss/scores/real', 'Loss/D/ggdr', 'Loss/r1_penalty', 'Loss/D/reg',
  'Progress/tick', 'Progress/kimg', 'Timing/total_sec', 'Timing/sec_per_tick', 'Timing/sec_per_kimg',
  'Timing/maintenance_sec', 'Timing/total_hours', 'Resources/cpu_mem_gb', 'Resources/num_tensors',
];

/**
 * Writes stats lines until the file holds `lines` lines or `bytes` bytes (whichever is given); with
 * `from` it appends to a file that already holds from.lines lines / from.bytes bytes. Returns the totals.
 */
export function writeStatsFile(file: string, limit: { lines?: number; bytes?: number }, from?: { lines: number; bytes: number }): { lines: number; bytes: number } {
  const rng = new Rng(12345 + (from?.lines ?? 0));
  const fd = fs.openSync(file, from ? 'a' : 'w');
  let lines = from?.lines ?? 0, bytes = from?.bytes ?? 0, buf: string[] = [], bufLen = 0;
  const t0 = 1.7e9;
  const more = () => (limit.lines !== undefined ? lines < limit.lines : bytes < (limit.bytes ?? 0));
  try {
    while (more()) {
      const rec: Record<string, unknown> = {};
      for (const k of STAT_KEYS) {
        const num = k.startsWith('Loss/') ? 16 * (k === 'Loss/D/ggdr' ? 1 : 4) : 1;
        // Tick and kimg grow as the trainer's do (kimg is the loss panel's x axis: it must be monotonic); the rest is noise.
        rec[k] = k === 'Progress/tick' ? { num, mean: lines + 1, std: 0 }
          : k === 'Progress/kimg' ? { num, mean: (lines + 1) * 4.016, std: 0 }
            : { num, mean: rng.normal() + 1, std: Math.abs(rng.normal()) };
      }
      rec.timestamp = t0 + lines * 12.5 + rng.uniform();
      const s = JSON.stringify(rec) + '\n';
      buf.push(s);
      bufLen += s.length; // ASCII: chars = bytes
      bytes += s.length;
      lines++;
      if (bufLen > 8 * 1024 * 1024) { fs.writeSync(fd, buf.join('')); buf = []; bufLen = 0; }
    }
    if (buf.length) fs.writeSync(fd, buf.join(''));
  } finally {
    fs.closeSync(fd);
  }
  return { lines, bytes };
}
