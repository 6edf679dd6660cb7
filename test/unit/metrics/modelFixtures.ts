/**
 * Small TF.js feature models for metric tests, and a loopback HTTP server that serves them and
 * records every request (so a test can tell a download from a cache hit). The graph model is
 * written by hand in the converter's format: no tfjs needed to make it.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Rng } from '../../../src/core/util/rng';
import { tmpDir, trainTinyRun } from '../inference/helpers';

/** Graph model: input [−1,8,8,3] → Conv2D 3×3×3×4 SAME → Relu → Mean[1,2] → output [N,4]. Returns its weights. */
export function writeGraphModel(dir: string, seed = 5): Float32Array {
  const filter = new Rng(seed).normalArray(3 * 3 * 3 * 4, 0.5);
  fs.mkdirSync(dir, { recursive: true });
  const f32 = { type: 'DT_FLOAT' };
  const dims = (...d: number[]) => ({ dim: d.map((s) => ({ size: String(s) })) });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const json = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'hand-written test fixture',
    modelTopology: {
      node: [
        { name: 'input', op: 'Placeholder', attr: { dtype: f32, shape: { shape: dims(-1, 8, 8, 3) } } },
        { name: 'conv/filter', op: 'Const', attr: { dtype: f32, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(3, 3, 3, 4) } } } },
        { name: 'conv', op: 'Conv2D', input: ['input', 'conv/filter'], attr: { T: f32, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: { list: { i: ['1', '1', '1', '1'] } } } },
        { name: 'relu', op: 'Relu', input: ['conv'], attr: { T: f32 } },
        { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dims(2) } } } },
        { name: 'pool', op: 'Mean', input: ['relu', 'axes'], attr: { T: f32, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
        { name: 'output', op: 'Identity', input: ['pool'], attr: { T: f32 } },
      ],
      library: {},
      versions: { producer: 1286 },
    },
    weightsManifest: [{
      paths: ['group1-shard1of1.bin'],
      weights: [{ name: 'conv/filter', shape: [3, 3, 3, 4], dtype: 'float32' }, { name: 'axes', shape: [2], dtype: 'int32' }],
    }],
  };
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.concat([Buffer.from(filter.buffer), Buffer.from(new Int32Array([1, 2]).buffer)]));
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  return filter;
}

export interface ModelServer {
  /** http://127.0.0.1:<port> */
  base: string;
  /** Paths requested so far (tests clear it). */
  requests: string[];
  close(): Promise<void>;
}

/** Serves the files under `root` on a loopback port (404 for anything else). */
export async function serveDir(root: string): Promise<ModelServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A loopback URL nobody listens on (a port just closed): connection refused, like being offline. */
export async function deadUrl(pathname: string): Promise<string> {
  const tmp = http.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  const port = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  return `http://127.0.0.1:${port}${pathname}`;
}

/** A tiny trained run plus the graph model served as `inception_v3` over loopback HTTP. */
export interface MetricsFixture { tmp: string; runDir: string; snap: string; server: ModelServer; url: string }

/** Trains a tiny run under a fresh temp folder (prefix) and serves the hand-written graph model. */
export async function tinyRunWithServedModel(prefix: string): Promise<MetricsFixture> {
  const tmp = tmpDir(prefix);
  const r = await trainTinyRun(path.join(tmp, 'runs'));
  writeGraphModel(path.join(tmp, 'served', 'inception_v3'));
  const server = await serveDir(path.join(tmp, 'served'));
  return { tmp, runDir: r.runDir, snap: r.snapshots[r.snapshots.length - 1], server, url: `${server.base}/inception_v3/model.json` };
}

/** The lines of a run's metric-<name>.jsonl (none when it does not exist). */
export function metricFileLines(runDir: string, name: string): string[] {
  const file = path.join(runDir, `metric-${name}.jsonl`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}
