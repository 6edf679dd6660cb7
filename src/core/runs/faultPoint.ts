/**
 * Test hook for the fault suite (test/fault/): with GAN_INSPECTOR_FAULT_PAUSE=<name> the process
 * stops dead at that point (after skipping GAN_INSPECTOR_FAULT_SKIP earlier hits), announcing
 * "FAULT-POINT <name>" on stderr, so the suite can kill -9 it at an exact moment: mid snapshot,
 * mid stats append, mid status write, mid resume trim. Without the variable it does nothing.
 */
let hits = 0;

export function faultPoint(name: string, before?: () => void): void {
  if (process.env.GAN_INSPECTOR_FAULT_PAUSE !== name) return;
  if (hits++ < Number(process.env.GAN_INSPECTOR_FAULT_SKIP ?? 0)) return;
  before?.();
  process.stderr.write(`FAULT-POINT ${name}\n`); // synchronous for pipes and files on POSIX
  const cell = new Int32Array(new SharedArrayBuffer(4));
  for (;;) Atomics.wait(cell, 0, 0, 60_000);
}
