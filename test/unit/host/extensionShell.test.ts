/**
 * The extension's static contract: manifest contributions match the registered commands, activation
 * stays lazy and tfjs-free, and the webview HTML has a strict CSP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { contentSecurityPolicy, escapeHtml, makeNonce, renderWebviewHtml } from '../../../src/host/webview/html';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

test('every contributed command is registered by the controller, and vice versa', () => {
  // The controller lets the command modules (src/host/commands/*.ts) register the commands.
  const dir = path.join(ROOT, 'src', 'host', 'commands');
  const src = fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  const registered = [...src.matchAll(/reg\('(ganInspector\.[A-Za-z]+)'/g)].map((m) => m[1]).sort();
  const contributed = (pkg.contributes.commands as Array<{ command: string; category: string }>).map((c) => c.command).sort();
  assert.deepEqual(contributed, registered);
  for (const c of pkg.contributes.commands) assert.equal(c.category, 'GAN Inspector');
  const menuCommands = Object.values(pkg.contributes.menus as Record<string, Array<{ command: string }>>).flat().map((m) => m.command);
  for (const c of menuCommands) assert.ok(contributed.includes(c), `menu uses unknown command ${c}`);
});

test('activation is lazy: only the onWebviewPanel events VS Code cannot infer', () => {
  // VS Code (>= 1.74) activates on every contributed command, view and custom editor by itself; panels
  // restored after a reload need onWebviewPanel, one per registered serializer.
  const ev: string[] = pkg.activationEvents;
  assert.ok(ev.length > 0);
  for (const e of ev) assert.match(e, /^onWebviewPanel:/);
  assert.deepEqual([...ev].sort(), ['onWebviewPanel:ganInspector.compareRuns', 'onWebviewPanel:ganInspector.lossCurves', 'onWebviewPanel:ganInspector.segmentation']);
  const serializers = [...fs.readFileSync(path.join(ROOT, 'src', 'host', 'controller.ts'), 'utf8').matchAll(/registerWebviewPanelSerializer\(VIEW_TYPES\.(\w+)/g)].map((m) => m[1]).sort();
  assert.deepEqual(serializers, ['compareRuns', 'lossCurves', 'segmentation']);
  assert.ok(pkg.contributes.views.ganInspector.some((v: { id: string }) => v.id === 'ganInspector.runs'), 'the Runs view activates by being contributed');
  assert.ok(/^\^1\.(\d+)/.test(pkg.engines.vscode) && Number(/^\^1\.(\d+)/.exec(pkg.engines.vscode)![1]) >= 74, 'implicit activation events need VS Code 1.74');
  assert.equal(pkg.main, './dist/extension.js');
  for (const icon of [pkg.contributes.viewsContainers.activitybar[0].icon, 'media/gan-inspector.schema.json']) {
    assert.ok(fs.existsSync(path.join(ROOT, icon)), icon);
  }
});

test('the extension host bundle never loads tfjs', async () => {
  const r = await esbuild.build({
    entryPoints: [path.join(ROOT, 'src', 'extension.ts')],
    bundle: true, write: false, platform: 'node', format: 'cjs', metafile: true, logLevel: 'silent',
    external: ['vscode', '@tensorflow/*', 'webgpu'],
  });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith('src/host/controller.ts')));
  const out = Object.values(r.metafile.outputs)[0];
  const externals = out.imports.filter((i) => i.external).map((i) => i.path);
  assert.deepEqual(externals.filter((p) => /tensorflow|webgpu/.test(p)), [], `host imports: ${externals.join(', ')}`);
  assert.ok(!inputs.some((i) => /src\/core\/(networks|training|backend)\//.test(i)), 'no training code in the host');
});

test('webview HTML: strict CSP with a fresh nonce and no inline script/style allowance', () => {
  const n1 = makeNonce();
  const n2 = makeNonce();
  assert.notEqual(n1, n2);
  assert.match(n1, /^[A-Za-z0-9+/=]{24}$/);
  const csp = contentSecurityPolicy('https://x.vscode-cdn.net', n1);
  assert.equal(csp, `default-src 'none'; img-src https://x.vscode-cdn.net data: blob:; style-src https://x.vscode-cdn.net; font-src https://x.vscode-cdn.net; script-src 'nonce-${n1}'`);
  assert.doesNotMatch(csp, /unsafe/);
  const html = renderWebviewHtml({ cspSource: 'https://x', nonce: n1, title: 'Loss · <b>"run"</b>', scriptUri: 'https://x/loss.js', styleUris: ['https://x/loss.css'], panel: 'loss' });
  assert.match(html, /<title>Loss · &lt;b&gt;&quot;run&quot;&lt;\/b&gt;<\/title>/);
  assert.match(html, new RegExp(`<script nonce="${n1.replace(/[+/]/g, (c) => `\\${c}`)}" src="https://x/loss.js"></script>`));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
  assert.doesNotMatch(html, /<style|style="/);
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
