/**
 * Child process for the cross-process createRunDir test: prints "ready", waits for the go-file so
 * that all children start together, creates N runs and prints their ids as JSON.
 */
import * as fs from 'node:fs';
import { createRunDir } from '../../../src/core/runs/runDir';

async function main() {
  const [outdir, desc, n, goFile] = process.argv.slice(2);
  process.stdout.write('ready\n');
  while (!fs.existsSync(goFile)) await new Promise((r) => setTimeout(r, 2));
  const ids: number[] = [];
  for (let i = 0; i < Number(n); i++) ids.push((await createRunDir(outdir, `${desc}-${i}`)).id);
  process.stdout.write(JSON.stringify(ids) + '\n');
}
void main();
