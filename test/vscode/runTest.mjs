// The @vscode/test-electron suite: runs test/vscode/suite in a downloaded desktop VS Code.
// Where VS Code cannot be downloaded (no internet), it says so and exits 3 — never a silent pass.
// The code-server suite (test/e2e) covers the same ground on machines without internet.
import { runTests } from '@vscode/test-electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'test', 'vscode', 'suite', 'index.js'),
    launchArgs: [path.join(root, 'test', 'fixtures', 'official-ggdr-cpu'), '--disable-extensions'],
    timeout: 60_000,
  });
  console.log('test:vscode: passed');
} catch (e) {
  const msg = String(e?.message ?? e);
  if (/download|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|fetch failed|socket|network|Failed to get/i.test(msg)) {
    console.log(`test:vscode: NOT RUN — VS Code could not be downloaded here (${msg.split('\n')[0]}). ` +
      'Run `npm run test:vscode` on a machine with internet; `npm run test:e2e` runs the real-VS-Code suite through code-server offline.');
    process.exit(3);
  }
  console.error('test:vscode: FAILED', e);
  process.exit(1);
}
