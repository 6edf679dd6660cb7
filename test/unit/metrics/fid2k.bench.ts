/**
 * Timing of fid2k_lenet / kid2k_lenet on the tiny and mnist32 generators (random weights: the cost
 * does not depend on training). Not part of the unit tests.
 *
 *   node --import tsx test/unit/metrics/fid2k.bench.ts [--backend wasm|cpu] [--cache DIR] [--snapshot DIR]
 *
 * --snapshot also evaluates a snapshot folder's G_ema against its run's dataset.
 */
import { resolveOptions, type PresetName } from '../../../src/core/config/options';
import { initBackend } from '../../../src/core/backend/backend';
import { loadDataset } from '../../../src/core/data/dataset';
import { Generator } from '../../../src/core/networks/generator';
import { computeMetrics, computeSnapshotMetrics, resolveExtractor } from '../../../src/core/metrics/index';
import type { LenetExtractor } from '../../../src/core/metrics/lenet';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const backend = await initBackend((arg('backend') ?? 'wasm') as 'wasm');
  const cacheDir = arg('cache');
  const t0 = performance.now();
  const lenet = (await resolveExtractor('lenet', { cacheDir, onLog: (l) => console.log(l) })) as LenetExtractor;
  console.log(`backend ${backend.name}; LeNet ${lenet.fromCache ? 'from cache' : 'trained'} in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
    `(accuracy ${(lenet.info.accuracy * 100).toFixed(1)}%, recorded training ${lenet.info.trainTimeSec.toFixed(1)} s)`);
  for (const preset of ['tiny', 'mnist32'] as PresetName[]) {
    const o = resolveOptions({ preset });
    const G = new Generator(o.model, 0, 'G_ema');
    const ds = await loadDataset('mnist', { resolution: o.model.resolution, channels: o.model.channels as 1 });
    const marks: Record<string, number> = {};
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const r = await computeMetrics({
      G, dataset: ds, extractor: lenet, numGen: 2000, metrics: ['fid', 'kid'], cacheReal: false,
      onProgress: (p) => { if (p.done === p.total) marks[p.phase] = performance.now(); },
    });
    const cpu = process.cpuUsage(cpu0);
    const s = (a: number, b: number) => ((b - a) / 1000).toFixed(2);
    console.log(`${preset} (${o.model.resolution}px): fid2k ${r.results.fid2k_lenet.toFixed(2)} in ${r.times.fid2k_lenet.toFixed(2)} s, ` +
      `kid2k ${r.results.kid2k_lenet.toFixed(4)} in ${r.times.kid2k_lenet.toFixed(2)} s; total ${r.totalTime.toFixed(2)} s (${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU) ` +
      `[real features ${s(start, marks.real)} s, generate+features ${s(marks.real, marks.generated)} s, KID ${s(marks.generated, marks.kid)} s]`);
    const again = performance.now();
    const cpu1 = process.cpuUsage();
    const r2 = await computeMetrics({ G, dataset: ds, extractor: lenet, numGen: 2000, metrics: ['fid'] });
    const c2 = process.cpuUsage(cpu1);
    console.log(`${preset}: fid2k alone, real features cached: ${((performance.now() - again) / 1000).toFixed(2)} s (${((c2.user + c2.system) / 1e6).toFixed(2)} s CPU; same value: ${r2.results.fid2k_lenet === r.results.fid2k_lenet})`);
    G.dispose();
  }
  const snap = arg('snapshot');
  if (snap) {
    const lines = await computeSnapshotMetrics(snap, ['fid2k_lenet', 'kid2k_lenet'], { cacheDir });
    for (const l of lines) console.log(JSON.stringify(l));
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
