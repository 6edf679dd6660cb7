#!/usr/bin/env node
// GAN Inspector CLI: the bundled engine lives in dist/cli.js (built by `npm run build`).
const path = require('path');
const fs = require('fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('GAN Inspector is not built yet: run `npm run build` in ' + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
// runCli turns UserErrors and file-system errors (disk full, read-only, …) into messages and exit code 2.
const mod = require(cli);
(mod.runCli || mod.main)(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write((e && e.name === 'UserError' ? 'Error: ' + e.message : 'Internal error: ' + ((e && e.stack) || e)) + '\n');
    process.exit(e && e.name === 'UserError' ? 2 : 1);
  },
);
