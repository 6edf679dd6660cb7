/** Child of the fault suite's lock race: takes the writer lock of argv[2], holds it 1.5 s, prints 'got' or 'refused: …'. */
import { acquireRunLock } from '../../src/core/runs/runLock';

try {
  const lock = acquireRunLock(process.argv[2], 'race');
  setTimeout(() => { lock.release(); process.stdout.write('got\n'); }, 1500);
} catch (e) {
  process.stdout.write(`refused: ${(e as Error).message.split('\n')[0]}\n`);
}
