/**
 * The official-trainer check (python, `import torch`, `train.py --help`) takes seconds, so its result is
 * kept by (python, repo, train.py's mtime, env): in memory and in a persisted store (VS Code's
 * globalState), so neither a second Train… nor a window reload runs Python again while nothing changed.
 * Failures are not kept (the user is fixing them). GGDR is checked against the kept result. No vscode.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrainHelpOption } from '../../core/official/trainer/args';
import { requireGgdr, type OfficialTrainerCheck, type OfficialTrainerSettings } from '../../core/official/trainer/check';

/** The part of VS Code's Memento this needs. */
export interface CheckStore {
  get(key: string): unknown;
  update(key: string, value: unknown): Thenable<void> | Promise<void>;
}

export const CHECK_STORE_KEY = 'ganInspector.officialTrainerCheck';

/** The cache key of a check, or undefined when repo has no train.py (the check itself says what is wrong). */
export function trainerCheckKey(s: Pick<OfficialTrainerSettings, 'python' | 'env'>, repo: string): string | undefined {
  try {
    return JSON.stringify([s.python, repo, fs.statSync(path.join(repo, 'train.py')).mtimeMs, s.env]);
  } catch {
    return undefined;
  }
}

type Stored = Omit<OfficialTrainerCheck, 'help'> & { key: string; helpOptions: Array<[string, TrainHelpOption]> };

function fromStored(v: unknown, key: string): OfficialTrainerCheck | undefined {
  const o = v as Partial<Stored> | undefined;
  if (!o || typeof o !== 'object' || o.key !== key || !Array.isArray(o.helpOptions) || !o.python || typeof o.trainPy !== 'string' || typeof o.repo !== 'string') return undefined;
  return { python: o.python, repo: o.repo, trainPy: o.trainPy, ggdr: o.ggdr === true, warnings: Array.isArray(o.warnings) ? o.warnings : [], help: { options: new Map(o.helpOptions) } };
}

export class TrainerCheckCache {
  private mem?: { key: string; check: OfficialTrainerCheck };

  constructor(private readonly store?: CheckStore) {}

  /**
   * The kept check for `key`, else `run()`'s (kept when it succeeds). `run` checks without GGDR; with
   * `wantGgdr` a checkout without --reg_type throws the check's message. `force` runs it again.
   */
  async get(key: string | undefined, wantGgdr: boolean, run: () => Promise<OfficialTrainerCheck>, force = false): Promise<{ check: OfficialTrainerCheck; ran: boolean }> {
    let check = force || key === undefined ? undefined : this.mem?.key === key ? this.mem.check : fromStored(this.store?.get(CHECK_STORE_KEY), key);
    const ran = !check;
    if (!check) {
      check = await run();
      if (key !== undefined) {
        const stored: Stored = { key, python: check.python, repo: check.repo, trainPy: check.trainPy, ggdr: check.ggdr, warnings: check.warnings, helpOptions: [...check.help.options] };
        await this.store?.update(CHECK_STORE_KEY, stored);
      }
    }
    if (key !== undefined) this.mem = { key, check };
    if (wantGgdr) requireGgdr(check);
    return { check, ran };
  }
}
