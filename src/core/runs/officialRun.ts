/**
 * What a run folder written by the official StyleGAN2-ADA / GGDR code says about itself: the summary
 * fields of its training_options.json, and its end state from the tail of log.txt (the official
 * trainer writes no status.json).
 */
import * as path from 'node:path';
import type { RunState, RunSummary } from '../../shared/runTypes';
import { isObj, num } from './jsonFile';
import { readTextTail } from './jsonlRead';
import { RUN_FILES } from './runDir';

/** The summary fields an official training_options.json gives; `datasetPath` is training_set_kwargs.path as written. */
export function officialSummaryFields(o: Record<string, unknown>): Partial<RunSummary> & { datasetPath?: unknown } {
  const ds = isObj(o.training_set_kwargs) ? o.training_set_kwargs : {};
  const loss = isObj(o.loss_kwargs) ? o.loss_kwargs : {};
  const D = isObj(o.D_kwargs) ? o.D_kwargs : {};
  const out: Partial<RunSummary> & { datasetPath?: unknown } = {
    datasetPath: ds.path,
    resolution: num(ds.resolution),
    batch: num(o.batch_size),
    totalKimg: num(o.total_kimg) ?? NaN,
    seed: num(o.random_seed),
    backend: 'pytorch',
  };
  // GGDR's train.py records reg_type; plain StyleGAN2-ADA has none, and its loss class tells.
  if (typeof o.reg_type === 'string') out.ggdr = o.reg_type === 'ggdr';
  else if (typeof loss.class_name === 'string') out.ggdr = /ggdr/i.test(loss.class_name);
  if (out.ggdr) {
    out.ggdrRes = num(loss.ggdr_res) ?? num(D.decoder_res);
    out.ggdrWeight = num(loss.ggdr_weight) ?? 10; // the official loss hard-codes λ = 10
  }
  return out;
}

/**
 * The end state the last 16 KB of an official run's log.txt tell (undefined: still running, or
 * nothing to tell), with the Python error line of a failed run.
 */
export async function officialLogState(runDir: string): Promise<{ state?: RunState; lastError?: string }> {
  const logTail = await readTextTail(path.join(runDir, RUN_FILES.log), 16 * 1024);
  if (logTail === undefined) return {};
  // The official loop writes a final stats line once cur_nimg ≥ total_kimg·1000, then prints "Exiting...".
  if (/^Exiting\.\.\.\s*$/m.test(logTail)) return { state: 'finished' };
  // Ctrl-C / Stop Training (SIGINT): train.py's click ends with "Aborted!" (exit 1) — stopped, not unknown.
  if (/(^|\n)Aborted!\s*$/.test(logTail)) return { state: 'stopped' };
  if (/Traceback \(most recent call last\)/.test(logTail)) {
    const lines = logTail.trim().split(/\r?\n/);
    const last = lines[lines.length - 1] || 'Python traceback in log.txt';
    // Ctrl-C / Stop Training (SIGINT) ends train.py with a KeyboardInterrupt traceback: stopped, not failed.
    if (/^KeyboardInterrupt\s*$/.test(last)) return { state: 'stopped' };
    return { state: 'failed', lastError: last };
  }
  return {};
}
