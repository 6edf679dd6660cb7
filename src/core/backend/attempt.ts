/** What trying to start one tfjs backend gives, and the helpers every attempt uses. */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from './backend';

/** A started backend (with notes for the user), or why not and what to do. */
export type Attempt = { ok: true; info: Omit<BackendInfo, 'requested' | 'notes'>; notes?: string[] } | { ok: false; reason: string; hint?: string };

/** tf.setBackend, but a failed init is reported by us, not by tfjs's console.warn of the stack. */
export async function setBackendQuietly(name: string): Promise<boolean> {
  const warn = console.warn;
  const captured: unknown[][] = [];
  console.warn = (...args: unknown[]) => { captured.push(args); };
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  } finally {
    console.warn = warn;
    // Pass through warnings unrelated to the failed init.
    for (const args of captured) if (!String(args[0]).startsWith('Initialization of backend')) warn(...args);
  }
}

/** Version of an installed package, or 'unknown'. */
export function packageVersion(pkg: string): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a package.json named at run time
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function firstLine(s: string): string {
  return s.split('\n')[0];
}
