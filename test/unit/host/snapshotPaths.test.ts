/**
 * Command argument → snapshot folder (src/host/snapshotPaths.ts, the vscode-free part of
 * snapshotArgs.ts): Explorer Uris of a snapshot folder or its files, path strings, Runs-view nodes,
 * and what must mean "ask" (a run folder, junk paths, non-file Uris, other nodes).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { looksLikeSnapshot, snapshotPathFromArg, type UriLike } from '../../../src/host/snapshotPaths';

/** What snapshotArgs.ts passes is `instanceof vscode.Uri`; this class plays a vscode.Uri's two read fields. */
class Uri implements UriLike {
  constructor(readonly scheme: string, readonly fsPath: string) {}
  static file(p: string): Uri { return new Uri('file', p); }
}
const isUri = (a: unknown): a is UriLike => a instanceof Uri;
const resolve = (arg: unknown) => snapshotPathFromArg(arg, isUri);

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gi-snappaths-'));
const run = path.join(root, 'runs', '00000-mnist-tiny-ggdr-kimg0.016-batch4-seed0');
const snap = path.join(run, 'network-snapshot-000000.016');
fs.mkdirSync(snap, { recursive: true });
for (const f of ['snapshot.json', 'weights.bin']) fs.writeFileSync(path.join(snap, f), '{}');
fs.writeFileSync(path.join(run, 'stats.jsonl'), '');
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('an Explorer folder Uri of a snapshot, and Uris of its snapshot.json / weights.bin, give the folder', () => {
  assert.equal(resolve(Uri.file(snap)), snap);
  assert.equal(resolve(Uri.file(path.join(snap, 'snapshot.json'))), snap);
  assert.equal(resolve(Uri.file(path.join(snap, 'weights.bin'))), snap);
});

test('path strings: absolute, relative (to the working folder) and an official .pkl', () => {
  assert.equal(resolve(path.join(snap, 'snapshot.json')), snap);
  assert.equal(resolve(path.relative(process.cwd(), path.join(snap, 'snapshot.json'))), snap);
  const pkl = path.join(run, 'network-snapshot-000200.pkl');
  assert.equal(resolve(pkl), pkl);
  assert.equal(resolve(Uri.file(pkl)), pkl);
});

test('a Runs-view snapshot node gives its path; a run node does not', () => {
  assert.equal(resolve({ kind: 'snapshot', snapshot: { path: snap, name: path.basename(snap) } }), snap);
  assert.equal(resolve({ kind: 'run', run: { dir: run } }), undefined);
  assert.equal(resolve({ kind: 'snapshot', snapshot: {} }), undefined);
});

test('a run folder, files that are not a snapshot, non-file Uris and nothing all mean "ask"', () => {
  assert.equal(resolve(Uri.file(run)), undefined, 'run folder Uri');
  assert.equal(resolve(run), undefined, 'run folder path');
  assert.equal(resolve(Uri.file(path.join(run, 'stats.jsonl'))), undefined);
  assert.equal(resolve(path.join(root, 'notes', 'snapshot.json')), undefined, 'a snapshot.json outside a network-snapshot-* folder');
  assert.equal(resolve(path.join(snap, 'other.txt')), undefined, 'another file inside a snapshot folder');
  assert.equal(resolve('/definitely/not/here.txt'), undefined);
  assert.equal(resolve(new Uri('vscode-remote', snap)), undefined, 'only file: Uris');
  for (const junk of [undefined, null, '', 42, {}, []]) assert.equal(resolve(junk), undefined, JSON.stringify(junk));
});

test('looksLikeSnapshot', () => {
  assert.ok(looksLikeSnapshot(snap));
  assert.ok(looksLikeSnapshot('network-snapshot-000004.000'));
  assert.ok(looksLikeSnapshot(path.join('x', 'network-snapshot-1', 'weights.bin')));
  assert.ok(!looksLikeSnapshot(run));
  assert.ok(!looksLikeSnapshot(path.join('x', 'network-snapshot-1', 'fakes000000.png')));
  assert.ok(!looksLikeSnapshot(path.join('x', 'snapshots', 'snapshot.json')));
});
