/**
 * Training statistics in StyleGAN2-ADA's training_stats style: values are reported under a name
 * during a tick and aggregated into {num, mean, std} (population std) when the tick's stats line is
 * written. Pure TypeScript; callers pass numbers already read back from tensors.
 */
import type { StatsLine, StatValue } from '../../shared/runTypes';

/** Running moments of one stat (Welford), as saved with a snapshot taken mid-tick. */
export interface Moments {
  num: number;
  mean: number;
  m2: number; // sum of squared deviations from the running mean (Welford)
}

/** Collects reported values per name and aggregates them per tick. */
export class StatsCollector {
  private readonly acc = new Map<string, Moments>();

  /** Adds one value or every element of `values` under `name`; empty arrays add nothing. NaN propagates (a diverged loss must show). */
  report(name: string, values: number | ArrayLike<number>): void {
    if (typeof values === 'number') {
      this.add(name, values);
      return;
    }
    for (let i = 0; i < values.length; i++) this.add(name, values[i]);
  }

  /** Aggregated {num, mean, std} per name since the last call (in first-report order); resets. */
  drain(): Record<string, StatValue> {
    const out: Record<string, StatValue> = {};
    for (const [name, m] of this.acc) {
      // Population variance, as training_stats computes it (E[x²] − E[x]²), here via Welford for accuracy.
      out[name] = { num: m.num, mean: m.mean, std: Math.sqrt(Math.max(m.m2 / m.num, 0)) };
    }
    this.acc.clear();
    return out;
  }

  /** The un-drained moments (for a snapshot mid-tick); restoring them with load() continues bit-exactly. */
  save(): Record<string, Moments> {
    const out: Record<string, Moments> = {};
    for (const [name, m] of this.acc) out[name] = { ...m };
    return out;
  }

  /** Replaces the collected moments with saved ones (first-report order = key order). */
  load(saved: Record<string, Moments>): void {
    this.acc.clear();
    // JSON writes NaN as null: read it back as NaN (a diverged value must still show).
    const num = (x: unknown) => (typeof x === 'number' ? x : x === null ? NaN : undefined);
    for (const [name, m] of Object.entries(saved ?? {})) {
      const n = num(m?.num), mean = num(m?.mean), m2 = num(m?.m2);
      if (n === undefined || mean === undefined || m2 === undefined || !(n > 0)) continue;
      this.acc.set(name, { num: n, mean, m2 });
    }
  }

  /** Names with at least one value since the last drain. */
  names(): string[] {
    return [...this.acc.keys()];
  }

  private add(name: string, x: number): void {
    let m = this.acc.get(name);
    if (!m) {
      m = { num: 0, mean: 0, m2: 0 };
      this.acc.set(name, m);
    }
    m.num++;
    const d = x - m.mean;
    m.mean += d / m.num;
    m.m2 += d * (x - m.mean);
  }
}

/** A stats.jsonl line: the drained stats plus `timestamp` (seconds since the epoch, float, last key as in the official files). */
export function makeStatsLine(stats: Record<string, StatValue>, timestamp: number = Date.now() / 1000): StatsLine {
  return { ...stats, timestamp } as StatsLine;
}
