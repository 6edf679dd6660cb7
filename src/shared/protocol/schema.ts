/**
 * Schemas for untrusted messages and persisted webview state, with each TypeScript type derived from
 * its schema (`Infer<typeof x>`), so a type and its guard cannot drift apart. A schema checks a value
 * and reports the first problem with its path ("columns.loss[3]: expected a finite number, got string");
 * `guard(x)` turns it into a type guard for rpc.ts's validators and `loadState`. No vscode, no DOM.
 *
 * Why our own ~250 lines and not a library (measured 2026-12-08 with esbuild 0.28, minified, Node 20;
 * scripts in the issue #15 report):
 * - Bundle size. The loss panel's schemas and guards bundled alone: 5,728 B (gzip 2,404) with this module,
 *   11,276 B (gzip 3,304) with valibot 1.5 (tree-shaken); zod was not measured.
 *   Protocol code per webview bundle (esbuild metafile), hand-written guards → schemas: loss 2.5 → 5.2 KB,
 *   viewer 0.6 → 3.0 KB, segmentation 0.8 → 3.4 KB (this module is 2.1–2.8 KB of that).
 * - Speed. A 20,000-row × 12-column stats chunk: 4–5 ms here, 6–9 ms with the hand-written guard, ~40 ms
 *   with valibot's `is`; a persisted loss state: ~1.5 µs here, ~0.2 µs hand-written, ~7 µs valibot.
 * - Rules: we need exact-key objects (a smuggled `path` key is an error), bounds on every number, string
 *   and array, and cross-field rules (equal column lengths) with a path; each is a few lines here.
 *
 * Use the builders as a namespace: `import * as s from './schema'`. esbuild keeps every schema a module
 * defines once the module is imported (it does not treat calls into another module as pure), so a panel's
 * webview bundle carries all of that panel's schemas (a few hundred bytes), not those of other panels.
 */

/** Where in a value a problem was found: keys and array indices from the top. */
export type Path = Array<string | number>;

/** The first problem found in a value. */
export interface Issue {
  path: Path;
  message: string;
}

/** A check of unknown values whose accepted type is `T`. */
export interface Schema<T> {
  /** Type only (never set): the type of the values this schema accepts. */
  readonly __type?: T;
  /** The first problem with `v`, or undefined when `v` is a T. Never throws. */
  readonly check: (v: unknown) => Issue | undefined;
}

/** A schema whose key may be absent from its object (or hold undefined). */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly optional: true;
}

/** The type a schema accepts. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = { readonly [key: string]: Schema<unknown> };
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalSchema<unknown> ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};
/** The object type of a shape: optional schemas become optional keys; no keys = `Record<string, never>` (not `{}`). */
export type ObjectOf<S extends Shape> = keyof S extends never
  ? Record<string, never>
  : Simplify<{ -readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { -readonly [K in OptionalKeys<S>]?: Infer<S[K]> }>;

/** A plain object (not null, not an array). The one definition for src/ and webview/. */
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const hasOwn = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** A short description of a value for messages ("string", "null", "array of 3", "number 1.5"). */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array of ${v.length}`;
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'string') return v.length > 20 ? `string of ${v.length} characters` : `string ${JSON.stringify(v)}`;
  return typeof v;
}

const issue = (message: string, path: Path = []): Issue => ({ path, message });

/** Prefixes an inner problem's path with the key or index it was found under. */
function at(key: string | number, i: Issue): Issue {
  i.path.unshift(key);
  return i;
}

function schema<T>(check: (v: unknown) => Issue | undefined): Schema<T> {
  return { check };
}

export interface StringRules {
  /** Most characters (default 4096). */
  max?: number;
  /** Fewest characters (default 0). */
  min?: number;
  /** Must contain something besides white space. */
  nonBlank?: boolean;
}

/** A string of at most `max` (default 4096) characters. */
export function string(rules: StringRules = {}): Schema<string> {
  const { max = 4096, min = 0, nonBlank = false } = rules;
  return schema((v) => {
    if (typeof v !== 'string') return issue(`expected a string, got ${describe(v)}`);
    if (v.length > max) return issue(`longer than ${max} characters (${v.length})`);
    if (v.length < min) return issue(min === 1 ? 'must not be empty' : `shorter than ${min} characters (${v.length})`);
    if (nonBlank && v.trim() === '') return issue('must not be blank');
    return undefined;
  });
}

export interface NumberRules {
  min?: number;
  max?: number;
  /** An integer (Number.isInteger). */
  int?: boolean;
  /** Reject NaN and ±Infinity (default true). */
  finite?: boolean;
}

/** A number, finite unless `finite: false`, within [min, max] when given. */
export function number(rules: NumberRules = {}): Schema<number> {
  const { min = -Infinity, max = Infinity, int = false, finite = true } = rules;
  return schema((v) => {
    if (typeof v !== 'number') return issue(`expected a number, got ${describe(v)}`);
    if (int ? !Number.isInteger(v) : finite && !Number.isFinite(v)) return issue(`expected ${int ? 'an integer' : 'a finite number'}, got ${v}`);
    if (v < min || v > max) return issue(`${v} is out of range [${min}, ${max}]`);
    return undefined;
  });
}

/** The largest integer a number holds exactly (Number.isSafeInteger's bound). */
const SAFE = Number.MAX_SAFE_INTEGER;

/** A non-negative safe integer (a count or an index). */
export function count(min = 0): Schema<number> {
  return number({ int: true, min, max: SAFE });
}

export function boolean(): Schema<boolean> {
  return schema((v) => (typeof v === 'boolean' ? undefined : issue(`expected true or false, got ${describe(v)}`)));
}

/** Exactly this value. */
export function literal<const L extends string | number | boolean | null>(value: L): Schema<L> {
  return schema((v) => (v === value ? undefined : issue(`expected ${JSON.stringify(value)}, got ${describe(v)}`)));
}

/** One of these values. */
export function picklist<const L extends readonly (string | number)[]>(values: L): Schema<L[number]> {
  return schema((v) => (values.includes(v as L[number]) ? undefined : issue(`expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${describe(v)}`)));
}

/** `inner` or null. */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return schema((v) => (v === null ? undefined : inner.check(v)));
}

/** `inner`, or absent (undefined). As an object's member, its key becomes optional. */
export function optional<T>(inner: Schema<T>): OptionalSchema<T> {
  return { optional: true, check: (v) => (v === undefined ? undefined : inner.check(v)) };
}

export interface ArrayRules {
  /** Most items (default: no limit). */
  max?: number;
  /** Fewest items (default 0). */
  min?: number;
}

/** An array whose every item passes `item`. */
export function array<T>(item: Schema<T>, rules: ArrayRules = {}): Schema<T[]> {
  const { max = Infinity, min = 0 } = rules;
  return schema((v) => {
    if (!Array.isArray(v)) return issue(`expected an array, got ${describe(v)}`);
    if (v.length > max) return issue(`more than ${max} items (${v.length})`);
    if (v.length < min) return issue(min === 1 ? 'must not be empty' : `fewer than ${min} items (${v.length})`);
    for (let i = 0; i < v.length; i++) {
      const bad = item.check(v[i]);
      if (bad) return at(i, bad);
    }
    return undefined;
  });
}

/** An object used as a map: any keys, every value passes `value`. */
export function record<T>(value: Schema<T>, rules: { maxKeys?: number } = {}): Schema<Record<string, T>> {
  const { maxKeys = Infinity } = rules;
  return schema((v) => {
    if (!isObj(v)) return issue(`expected an object, got ${describe(v)}`);
    const keys = Object.keys(v);
    if (keys.length > maxKeys) return issue(`more than ${maxKeys} keys (${keys.length})`);
    for (const k of keys) {
      const bad = value.check(v[k]);
      if (bad) return at(k, bad);
    }
    return undefined;
  });
}

function objectSchema<S extends Shape>(shape: S, exact: boolean): Schema<ObjectOf<S>> {
  const keys = Object.keys(shape);
  return schema((v) => {
    if (!isObj(v)) return issue(`expected an object, got ${describe(v)}`);
    if (exact) {
      for (const k of Object.keys(v)) if (!hasOwn(shape, k)) return issue(`unexpected key (allowed: ${keys.join(', ') || 'none'})`, [k]);
    }
    for (const k of keys) {
      const bad = shape[k].check(v[k]);
      if (bad) return at(k, bad.path.length === 0 && v[k] === undefined && !hasOwn(v, k) ? issue('missing') : bad);
    }
    return undefined;
  });
}

/** An object with exactly these keys (optional ones may be absent); any other key is an error. */
export function object<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return objectSchema(shape, true);
}

/** An object with these keys; other keys are tolerated (and not checked). */
export function looseObject<S extends Shape>(shape: S): Schema<ObjectOf<S>> {
  return objectSchema(shape, false);
}

/** A value that passes one of `options` (the problem reported is the last option's). */
export function union<const S extends readonly Schema<unknown>[]>(options: S): Schema<Infer<S[number]>> {
  return schema((v) => {
    let bad: Issue | undefined;
    for (const o of options) {
      bad = o.check(v);
      if (!bad) return undefined;
    }
    return bad ?? issue('no option of the union');
  });
}

/**
 * `base` plus a rule across its fields, run only on values that pass `base`: the rule returns nothing
 * when the value is fine, else a message (about the whole value) or an Issue (with its path).
 */
export function refine<T>(base: Schema<T>, rule: (v: T) => string | Issue | undefined): Schema<T> {
  return schema((v) => {
    const bad = base.check(v);
    if (bad) return bad;
    const r = rule(v as T);
    return typeof r === 'string' ? issue(r) : r;
  });
}

/** "columns.loss[3]: expected a finite number, got string" (no path: just the message). */
export function formatIssue(i: Issue): string {
  let p = '';
  for (const k of i.path) p += typeof k === 'number' ? `[${k}]` : p ? `.${k}` : k;
  return p ? `${p}: ${i.message}` : i.message;
}

/** Checks `v`: the typed value, or the first problem (also as text). */
export function validate<T>(s: Schema<T>, v: unknown): { ok: true; value: T } | { ok: false; issue: Issue; error: string } {
  const bad = s.check(v);
  return bad ? { ok: false, issue: bad, error: formatIssue(bad) } : { ok: true, value: v as T };
}

/** The schema as a type guard (for rpc.ts validators and loadState); `explain` says what is wrong with a value. */
export function guard<T>(s: Schema<T>): ((v: unknown) => v is T) & { explain: (v: unknown) => string | undefined } {
  const g = (v: unknown): v is T => s.check(v) === undefined;
  return Object.assign(g, {
    explain: (v: unknown) => {
      const bad = s.check(v);
      return bad && formatIssue(bad);
    },
  });
}
