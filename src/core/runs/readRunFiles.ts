/**
 * Readers of a run folder's two JSON files: training_options.json (classified as ours or official)
 * and status.json. Never throw on corrupt content: they say what is wrong instead.
 */
import * as path from 'node:path';
import type { RunState, RunStatus } from '../../shared/runTypes';
import { isObj, num, readJsonFile } from './jsonFile';
import { RUN_FILES, type OurTrainingOptionsFile } from './runDir';

const RUN_STATES: readonly RunState[] = ['running', 'finished', 'failed', 'stopped', 'unknown'];

/** training_options.json, classified. */
export type RunOptionsRead =
  | { kind: 'gan-inspector'; file: OurTrainingOptionsFile }
  | { kind: 'stylegan2-ada'; raw: Record<string, unknown> }
  | { kind: 'missing' }
  | { kind: 'corrupt'; error: string };

/** Reads and classifies `<dir>/training_options.json` (ours by `format: "gan-inspector"`, else official). Never throws. */
export async function readRunOptions(dir: string): Promise<RunOptionsRead> {
  const r = await readJsonFile(path.join(dir, RUN_FILES.options));
  if (r.kind !== 'ok') return r;
  const v = r.value;
  if (!isObj(v)) return { kind: 'corrupt', error: 'training_options.json is not a JSON object' };
  if (v.format === 'gan-inspector') {
    if (!isObj(v.options) || !isObj(v.options.model) || !isObj(v.options.ggdr)) {
      return { kind: 'corrupt', error: 'training_options.json (gan-inspector) lacks options.model / options.ggdr' };
    }
    if (!isObj(v.backend)) v.backend = { name: 'unknown' };
    return { kind: 'gan-inspector', file: v as unknown as OurTrainingOptionsFile };
  }
  if (v.format !== undefined) return { kind: 'corrupt', error: `training_options.json has unknown format '${String(v.format)}'` };
  if ('total_kimg' in v || 'training_set_kwargs' in v || 'G_kwargs' in v || 'run_dir' in v) return { kind: 'stylegan2-ada', raw: v };
  return { kind: 'corrupt', error: 'training_options.json is neither a GAN Inspector nor a StyleGAN2-ADA options file' };
}

function asRunStatus(v: unknown): RunStatus | undefined {
  if (!isObj(v) || typeof v.state !== 'string' || !RUN_STATES.includes(v.state as RunState)) return undefined;
  if (num(v.curKimg) === undefined) return undefined;
  return {
    state: v.state as RunState,
    curKimg: v.curKimg as number,
    totalKimg: num(v.totalKimg) ?? NaN,
    tick: num(v.tick) ?? 0,
    lastUpdate: typeof v.lastUpdate === 'string' ? v.lastUpdate : '',
    lastError: typeof v.lastError === 'string' ? v.lastError : null,
    pid: num(v.pid),
    latestSnapshot: typeof v.latestSnapshot === 'string' ? v.latestSnapshot : null,
    secPerKimg: num(v.secPerKimg),
  };
}

/** Reads `<dir>/status.json`; `undefined` when absent, `{error}` when corrupt. Never throws. */
export async function readRunStatus(dir: string): Promise<RunStatus | undefined | { error: string }> {
  const r = await readJsonFile(path.join(dir, RUN_FILES.status));
  if (r.kind === 'missing') return undefined;
  if (r.kind === 'corrupt') return { error: r.error };
  return asRunStatus(r.value) ?? { error: 'status.json does not hold a valid RunStatus' };
}
