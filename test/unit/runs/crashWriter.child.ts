/**
 * Child process for the crash tests: rewrites `<dir>/status.json` (large, atomically) and appends
 * to `<dir>/stats.jsonl` in a loop until killed. Prints "ready" after the first completed round.
 */
import * as path from 'node:path';
import { appendLineDurable, writeJsonAtomic } from '../../../src/core/runs/fsAtomic';

async function main() {
  const dir = process.argv[2];
  const pad = 'x'.repeat(2 * 1024 * 1024); // 2 MB per rewrite: the kill lands mid-write often
  for (let i = 0; ; i++) {
    await writeJsonAtomic(path.join(dir, 'status.json'), { round: i, pad, end: 'complete' });
    await appendLineDurable(path.join(dir, 'stats.jsonl'), JSON.stringify({ timestamp: i, 'Progress/kimg': { num: 1, mean: i, std: 0 }, pad: pad.slice(0, 100_000) }));
    if (i === 0) process.stdout.write('ready\n');
  }
}
void main();
