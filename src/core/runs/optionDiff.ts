/** Comparing two runs' options: a flat dot-path view and the keys whose values differ. */
import { isObj } from './jsonFile';

/** A flat dot-path view of nested plain objects; arrays and other values are leaves. */
export function flattenOptions(obj: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isObj(obj) && Object.keys(obj).length > 0) {
    for (const [k, v] of Object.entries(obj)) flattenOptions(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = obj;
  }
  return out;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Keys (dot paths) whose values differ between two option objects, sorted; a key missing on one side shows undefined. */
export function diffOptions(a: object, b: object): Array<{ key: string; a: unknown; b: unknown }> {
  const fa = flattenOptions(a);
  const fb = flattenOptions(b);
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  const out: Array<{ key: string; a: unknown; b: unknown }> = [];
  for (const key of keys) {
    const has = [key in fa, key in fb];
    if (has[0] && has[1] && deepEqual(fa[key], fb[key])) continue;
    out.push({ key, a: fa[key], b: fb[key] });
  }
  return out;
}
