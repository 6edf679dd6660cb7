/**
 * The CLI `cluster` command and the segmentation panel share one implementation (segmentNetworks in
 * src/core/analysis/segmentSnapshot.ts): on the same tiny trained snapshot and parameters, the CLI's
 * PNG function (clusterSnapshotToPng, in this process) and the inference process's `segment` request
 * (what the panel asks, through the real child process) give identical samples, labels, shares,
 * sampling and D-decoder results; `gan-inspector cluster` writes the same PNG, of the expected size,
 * whose pixels are the picture drawn from the panel's payload.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { clusterSnapshotToPng, segmentationPicture, type SegmentResult } from '../../../src/core/analysis/segmentSnapshot';
import { decodeImage } from '../../../src/core/image/codec';
import { main as cli } from '../../../src/cli/main';
import type { InferenceClient } from '../../../src/host/inference/inferenceClient';
import { decodeLabels, type ClusterMap, type SegmentPayload } from '../../../src/shared/protocol/inference';
import { decodeDataUrl, newClient, TEST_BACKEND, tmpDir, trainTinyRun } from '../inference/helpers';

const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7];
// tiny: 16 px, GGDR decoder at 8×8. maxPixels below 8·16·16 = 2048, so 16×16 is fitted on a sample and 8×8 (512 px) on all.
const PARAMS = { resolutions: [8, 16], k: 4, metric: 'cosine' as const, psi: 0.8, kmeansSeed: 3, maxPixels: 1000 };

let out = '';
let snap = '';
let client: InferenceClient;

before(async () => {
  out = tmpDir('gi-cluster-shared-');
  const run = await trainTinyRun(out, { kimg: 0.008 });
  snap = run.snapshots[run.snapshots.length - 1];
  client = await newClient();
});

after(() => {
  client?.dispose();
  fs.rmSync(out, { recursive: true, force: true });
});

/** The panel's payload back into the core result shape (labels and images decoded), to draw the CLI's picture from it. */
function fromPayload(p: SegmentPayload): SegmentResult {
  const labels = (m: ClusterMap) => Int32Array.from(decodeLabels(m.labels));
  const seg = (m: ClusterMap) => ({ res: m.res, labels: labels(m), shares: m.shares, sampled: m.sampled, fitPixels: m.fitPixels, k: m.k });
  return {
    seeds: p.seeds, resolution: p.resolution, channels: p.channels, metric: p.metric,
    images: p.images.map((src) => decodeDataUrl(src).data),
    resolutions: p.maps.map(seg),
    decoder: p.decoder && {
      res: p.decoder.res, fakes: seg(p.decoder.fakesOwn), fakesWithGCentroids: labels(p.decoder.fakesWithG), meanCosine: p.decoder.meanCosine,
    },
  };
}

test('CLI PNG function and the inference process give the same labels, shares, samples and decoder maps; the PNG is that picture', async () => {
  const file = path.join(out, 'cluster-direct.png');
  const cliRes = await clusterSnapshotToPng({ snapshot: snap, seeds: SEEDS, ...PARAMS, out: file, backend: TEST_BACKEND });
  const panel = await client.call('segment', { snapshot: snap, seeds: SEEDS, ...PARAMS, withDecoder: true, reals: 0 });
  const c = cliRes.result;

  // Samples: the same pixels.
  assert.deepEqual([panel.resolution, panel.channels], [c.resolution, c.channels]);
  assert.equal(panel.images.length, SEEDS.length);
  panel.images.forEach((src, i) => assert.deepEqual(decodeDataUrl(src).data, c.images[i], `sample of seed ${SEEDS[i]}`));

  // G's maps: identical labels, shares, sampling.
  assert.deepEqual(panel.maps.map((m) => m.res), [8, 16]);
  assert.deepEqual(c.resolutions.map((s) => s.res), [8, 16]);
  for (const [i, m] of panel.maps.entries()) {
    const s = c.resolutions[i];
    assert.deepEqual(decodeLabels(m.labels), Uint8Array.from(s.labels), `labels at ${m.res}`);
    assert.deepEqual(m.shares, s.shares, `shares at ${m.res}`);
    assert.deepEqual([m.sampled, m.fitPixels, m.k], [s.sampled, s.fitPixels, s.k]);
    assert.equal(new Set(decodeLabels(m.labels)).size > 1, true, `more than one cluster at ${m.res}`);
  }
  assert.deepEqual(panel.maps.map((m) => m.sampled), [false, true], '16×16 fitted on a sample, 8×8 on every pixel');
  assert.equal(panel.maps[1].fitPixels, 1000);

  // D's GGDR decoder at 8×8: the same maps and cosine.
  assert.ok(panel.decoder && c.decoder, 'both have the decoder');
  assert.equal(panel.decoder.res, c.decoder.res);
  assert.deepEqual(decodeLabels(panel.decoder.fakesWithG.labels), Uint8Array.from(c.decoder.fakesWithGCentroids));
  assert.deepEqual(decodeLabels(panel.decoder.fakesOwn.labels), Uint8Array.from(c.decoder.fakes.labels));
  assert.deepEqual(panel.decoder.fakesOwn.shares, c.decoder.fakes.shares);
  assert.equal(panel.decoder.meanCosine, c.decoder.meanCosine);

  // The PNG: samples row + one row per resolution + D's row, 16-px cells with 1-px gaps; its pixels are
  // the picture drawn from the panel's payload.
  const png = decodeImage(fs.readFileSync(cliRes.file), 'cluster PNG');
  assert.equal(cliRes.file, file);
  const cols = SEEDS.length, rows = 1 + 2 + 1, R = 16;
  assert.deepEqual([png.width, png.height, png.channels], [cols * R + (cols - 1), rows * R + (rows - 1), 3]);
  const picture = segmentationPicture(fromPayload(panel));
  assert.deepEqual([picture.width, picture.height], [png.width, png.height]);
  assert.deepEqual(png.data, picture.data);

  // `gan-inspector cluster` itself (the command's flags → the same function): the same PNG bytes and shares.
  const viaCli = path.join(out, 'cluster-cli.png');
  let printed = '';
  const code = await cli(['cluster', '--snapshot', snap, '--seeds', '0-7', '--res', '8,16', '--k', '4', '--metric', 'cosine', '--psi', '0.8',
    '--kmeans-seed', '3', '--max-pixels', '1000', '--out', viaCli, '--backend', TEST_BACKEND], { out: (s) => { printed += s; }, err: () => undefined, tty: false });
  assert.equal(code, 0);
  assert.deepEqual(fs.readFileSync(viaCli), fs.readFileSync(file));
  for (const m of panel.maps) {
    const line = printed.split('\n').find((l) => l.trim().startsWith(`${m.res}×${m.res}:`));
    assert.ok(line, `the CLI prints the ${m.res}×${m.res} shares`);
    assert.equal(line.trim().split(/\s+/).filter((t) => t.endsWith('%')).join(' '), m.shares.map((s) => `${(s * 100).toFixed(1)}%`).join(' '));
  }
});
