/** What a --resume continues: checked without tfjs, so the CLI can check before loading the engine. */
import * as path from 'node:path';
import { UserError } from '../errors';
import { upgradeStoredOptions, validateOptions, type TrainingOptions } from '../config/options';
import { readRun, readRunFolder } from './readRun';
import { readRunOptions } from './readRunFiles';

export interface ResumeTargetOptions {
  /**
   * Called once `runDir` is known to be one of our runs, before its state and snapshots are read:
   * the trainer takes the run's writer lock here, so what is read is not moved on by another writer.
   */
  beforeRead?(runDir: string): void;
}

/**
 * What a --resume of run folder `dir` continues from: its stored options (upgraded, validated) and
 * its newest loadable snapshot. Throws UserError when it cannot be resumed (not a run folder, not
 * ours, still running, no loadable snapshot). No tfjs: the CLI checks this before loading the engine.
 */
export async function resumeTarget(dir: string, opts: ResumeTargetOptions = {}): Promise<ResumeTarget> {
  const abs = path.resolve(dir);
  const name = path.basename(abs);
  await readRunFolder(abs); // UserError when missing or not a folder
  const read = await readRunOptions(abs);
  if (read.kind === 'missing') {
    throw new UserError(`${abs} is not a run folder: it has no training_options.json.`, 'Pass a run folder such as runs/00000-mnist-mnist32-ggdr-…');
  }
  if (read.kind === 'corrupt') throw new UserError(`${name}: ${read.error}.`, 'This run cannot be resumed; start a new one.');
  if (read.kind !== 'gan-inspector') {
    throw new UserError(`${abs} was not written by GAN Inspector and cannot be resumed here.`, 'Resume runs created by GAN Inspector; official runs need the official code.');
  }
  opts.beforeRead?.(abs);
  const run = await readRun(abs);
  // readRun reports a "running" status whose process is gone as stopped, so 'running' here means alive.
  if (run.state === 'running') throw new UserError(`${run.name} is still running.`, 'Stop it first, or wait for it to finish.');
  const newestFirst = [...run.snapshots].reverse().filter((s) => !s.name.endsWith('.pkl'));
  const candidates = newestFirst.filter((s) => s.loadable).map((s) => s.path);
  if (!candidates.length) throw new UserError(`${run.name} has no loadable snapshot to resume from.`, 'Start a new run instead.');
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const s of newestFirst) {
    if (s.loadable) break;
    skipped.push({ name: s.name, reason: s.reason ?? 'not loadable' });
  }
  const options = upgradeStoredOptions(read.file.options); // older runs: the effective values of new fields
  validateOptions(options);
  return { runDir: abs, options, snapshotDir: candidates[0], candidates, skipped };
}

/** What --resume continues: the run, its options, and its snapshots newest first. */
export interface ResumeTarget {
  runDir: string;
  options: TrainingOptions;
  /** The newest snapshot that passes the folder check (the one a resume tries first). */
  snapshotDir: string;
  /** Every snapshot passing the folder check, newest first (older ones are used when loading the newest fails). */
  candidates: string[];
  /** Snapshots newer than `snapshotDir` that failed the folder check, with why. */
  skipped: Array<{ name: string; reason: string }>;
}
