import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as s from '../../../src/shared/protocol/schema';
import { statsChunkSchema, metricsChunkSchema, lossPanelStateSchema } from '../../../src/shared/protocol/panels/loss';
import { segmentRequestSchema } from '../../../src/shared/protocol/panels/segmentation';
import { renderCellsSchema } from '../../../src/shared/protocol/panels/compare';
import { viewerHostValidators, viewerRenderSchema, type ViewerHostApi, type ViewerWebviewApi } from '../../../src/shared/protocol/panels/viewer';
import { MessageHandler } from '../../../src/shared/protocol/rpc';

/** The formatted first problem of `v` under `schema` (fails the test when `v` is accepted). */
function problem(schema: s.Schema<unknown>, v: unknown): string {
  const r = s.validate(schema, v);
  assert.equal(r.ok, false, `accepted ${JSON.stringify(v)}`);
  return r.ok ? '' : r.error;
}
function accepts(schema: s.Schema<unknown>, ...values: unknown[]): void {
  for (const v of values) {
    const r = s.validate(schema, v);
    assert.ok(r.ok, `${JSON.stringify(v)}: ${r.ok ? '' : r.error}`);
    assert.equal(s.guard(schema)(v), true);
  }
}

test('numbers: finite by default, integers, inclusive bounds', () => {
  const n = s.number();
  accepts(n, 0, -1.5, 1e300);
  assert.equal(problem(n, '1'), 'expected a number, got string "1"');
  assert.equal(problem(n, NaN), 'expected a finite number, got NaN');
  assert.equal(problem(n, Infinity), 'expected a finite number, got Infinity');
  accepts(s.number({ finite: false }), NaN, -Infinity);
  const i = s.number({ int: true, min: 2, max: 32 });
  accepts(i, 2, 32);
  assert.equal(problem(i, 2.5), 'expected an integer, got 2.5');
  assert.equal(problem(i, 1), '1 is out of range [2, 32]');
  assert.equal(problem(i, 33), '33 is out of range [2, 32]');
  assert.equal(problem(i, Infinity), 'expected an integer, got Infinity');
  const c = s.count();
  accepts(c, 0, Number.MAX_SAFE_INTEGER);
  assert.match(problem(c, -1), /out of range/);
  assert.match(problem(c, 2 ** 53), /out of range/);
});

test('strings: length bounds (default at most 4096) and non-blank', () => {
  accepts(s.string(), '', 'x'.repeat(4096));
  assert.equal(problem(s.string(), 'x'.repeat(4097)), 'longer than 4096 characters (4097)');
  assert.equal(problem(s.string({ max: 3 }), 'abcd'), 'longer than 3 characters (4)');
  assert.equal(problem(s.string({ min: 1 }), ''), 'must not be empty');
  assert.equal(problem(s.string({ min: 2 }), 'a'), 'shorter than 2 characters (1)');
  assert.equal(problem(s.string({ nonBlank: true }), ' \t'), 'must not be blank');
  assert.equal(problem(s.string(), null), 'expected a string, got null');
  assert.equal(problem(s.string(), ['a']), 'expected a string, got array of 1');
});

test('literals, picklists, booleans, nullable and unions', () => {
  accepts(s.literal(1), 1);
  assert.equal(problem(s.literal(1), 2), 'expected 1, got number 2');
  const p = s.picklist(['lerp', 'slerp']);
  accepts(p, 'lerp', 'slerp');
  assert.equal(problem(p, 'cubic'), 'expected one of "lerp", "slerp", got string "cubic"');
  assert.equal(problem(s.boolean(), 'yes'), 'expected true or false, got string "yes"');
  accepts(s.nullable(s.number()), null, 3);
  assert.equal(problem(s.nullable(s.number()), undefined), 'expected a number, got undefined');
  const u = s.union([s.literal('latest'), s.number({ min: 0 })]);
  accepts(u, 'latest', 0, 12.5);
  assert.equal(problem(u, -1), '-1 is out of range [0, Infinity]');
});

test('objects: exact keys, loose objects, optional and missing keys, with the path of the problem', () => {
  const o = s.object({ a: s.number(), b: s.optional(s.string({ max: 2 })) });
  accepts(o, { a: 1 }, { a: 1, b: 'xy' }, { a: 1, b: undefined });
  assert.equal(problem(o, { a: 1, path: '/etc/passwd' }), 'path: unexpected key (allowed: a, b)');
  assert.equal(problem(o, { b: 'x' }), 'a: missing');
  assert.equal(problem(o, { a: 1, b: 'xyz' }), 'b: longer than 2 characters (3)');
  assert.equal(problem(o, { a: 1, b: null }), 'b: expected a string, got null');
  assert.equal(problem(o, [1]), 'expected an object, got array of 1');
  assert.equal(problem(o, null), 'expected an object, got null');
  // A key named __proto__ that JSON.parse created is an own key like any other.
  assert.equal(problem(o, JSON.parse('{"a":1,"__proto__":{"b":"x"}}')), '__proto__: unexpected key (allowed: a, b)');
  accepts(s.object({}), {});
  assert.equal(problem(s.object({}), { x: 1 }), 'x: unexpected key (allowed: none)');
  const loose = s.looseObject({ a: s.number() });
  accepts(loose, { a: 1, anything: 'else' });
  assert.equal(problem(loose, { a: '1', anything: 'else' }), 'a: expected a number, got string "1"');
});

test('arrays and records: size bounds and the index or key of a bad item', () => {
  const a = s.array(s.string({ max: 3 }), { min: 1, max: 2 });
  accepts(a, ['a'], ['abc', '']);
  assert.equal(problem(a, []), 'must not be empty');
  assert.equal(problem(a, ['a', 'b', 'c']), 'more than 2 items (3)');
  assert.equal(problem(a, ['a', 'abcd']), '[1]: longer than 3 characters (4)');
  assert.equal(problem(s.array(s.number(), { min: 2 }), [1]), 'fewer than 2 items (1)');
  assert.equal(problem(a, { 0: 'a', length: 1 }), 'expected an array, got object');
  const r = s.record(s.array(s.nullable(s.number())), { maxKeys: 2 });
  accepts(r, {}, { x: [1, null] });
  assert.equal(problem(r, { x: [1, 'a'] }), 'x[1]: expected a number, got string "a"');
  assert.equal(problem(r, { x: [], y: [], z: [] }), 'more than 2 keys (3)');
  const nested = s.object({ series: s.array(s.object({ points: s.array(s.object({ t: s.number() })) })) });
  assert.equal(problem(nested, { series: [{ points: [] }, { points: [{ t: 0 }, { t: 'x' }] }] }), 'series[1].points[1].t: expected a number, got string "x"');
});

test('refine: rules across fields run after the structure passed, with a message or an issue with a path', () => {
  const range = s.refine(s.object({ lo: s.number(), hi: s.number() }), (r) => (r.lo <= r.hi ? undefined : { path: ['hi'], message: 'below lo' }));
  accepts(range, { lo: 1, hi: 2 });
  assert.equal(problem(range, { lo: 3, hi: 2 }), 'hi: below lo');
  assert.equal(problem(range, { lo: 3 }), 'hi: missing');
  const even = s.refine(s.number({ int: true }), (n) => (n % 2 === 0 ? undefined : `${n} is odd`));
  assert.equal(problem(s.array(even), [2, 3]), '[1]: 3 is odd');
});

test('the panel protocols report where a message is wrong', () => {
  const chunk = { reset: false, start: 0, timestamp: [1, 2], kimg: [0, 1], columns: { 'Loss/G/loss': [1, null] }, skipped: 0, sourceRows: 2 };
  accepts(statsChunkSchema, chunk);
  assert.equal(problem(statsChunkSchema, { ...chunk, columns: { 'Loss/G/loss': [1] } }), 'columns.Loss/G/loss: 1 entries, expected 2 (one per row)');
  assert.equal(problem(statsChunkSchema, { ...chunk, kimg: [0, 'x'] }), 'kimg[1]: expected a number, got string "x"');
  assert.equal(problem(statsChunkSchema, { ...chunk, source: [0, 1] }), 'source and bucketRows come together (decimated chunks) or not at all');
  assert.equal(problem(statsChunkSchema, { ...chunk, source: [1, 1], bucketRows: 2 }), 'source[1]: line 1 does not increase');
  assert.equal(problem(statsChunkSchema, { ...chunk, source: [0, 5], bucketRows: 2, sourceRows: 7 }), 'source[1]: last line 5 is not sourceRows − 1 (6)');
  assert.equal(problem(statsChunkSchema, { ...chunk, sourceRows: 1 }), "sourceRows: 1 is less than the chunk's 2 rows");
  const metrics = { reset: true, skipped: 0, series: [{ name: 'fid', kimg: [4], timestamp: [1], value: [3] }] };
  assert.equal(problem(metricsChunkSchema, { ...metrics, series: [...metrics.series, { ...metrics.series[0], value: [] }] }), 'series[1].value: 0 entries, expected 1 (one per point)');
  const state = { v: 1, runDir: '/r', smoothing: 0.6, xAxis: 'kimg', logGroups: [], hidden: [], collapsed: [] };
  assert.equal(problem(lossPanelStateSchema, { ...state, smoothing: 1.5 }), 'smoothing: 1.5 is out of range [0, 0.99]');
  assert.equal(problem(lossPanelStateSchema, { ...state, collapsed: new Array(101).fill('g') }), 'collapsed: more than 100 items (101)');
  const seg = { seeds: '0-7', resolutions: [8, 16], k: 6, metric: 'cosine', psi: 1, reals: true };
  assert.equal(problem(segmentRequestSchema, { ...seg, resolutions: [8, 12] }), 'resolutions[1]: 12 is not a power of two');
  assert.equal(problem(segmentRequestSchema, { ...seg, label: 100_000 }), 'label: 100000 is out of range [0, 99999]');
  assert.equal(problem(renderCellsSchema, { run: 'r', kimg: '-4', seeds: '0' }), 'kimg: expected \'latest\' or a kimg ≥ 0, got "-4"');
  assert.equal(problem(viewerRenderSchema, { which: 'G', psi: 0.5, noiseMode: 'const', noiseSeed: 0, seeds: '  ' }), 'seeds: must not be blank');
});

test('the rpc layer hands the schema\'s explanation of a rejected message to onInvalid', async () => {
  const rejected: Array<[string, string | undefined]> = [];
  const host = new MessageHandler<ViewerHostApi, ViewerWebviewApi>({ post: () => undefined, validators: viewerHostValidators, onInvalid: (r, _m, d) => rejected.push([r, d]) });
  const g = { which: 'G', psi: 3, noiseMode: 'const', noiseSeed: 0, seeds: '0-3' };
  host.handle({ rpc: 1, kind: 'request', id: 1, name: 'render', params: g });
  host.handle({ rpc: 1, kind: 'event', name: 'cancel', payload: { what: 'all' } });
  host.handle({ rpc: 1, kind: 'event', name: 'nope', payload: {} });
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(rejected, [
    ["invalid params for request 'render'", 'psi: 3 is out of range [-1, 2]'],
    ["invalid payload for event 'cancel'", 'what: expected one of "grid", "interp", "export", got string "all"'],
    ["unknown event 'nope'", undefined],
  ]);
  assert.equal(s.guard(viewerRenderSchema).explain({ ...g, psi: 0 }), undefined);
});

test('isObj: plain objects only', () => {
  assert.ok(s.isObj({}) && s.isObj(Object.create(null)));
  for (const v of [null, undefined, [], 'x', 1, true]) assert.equal(s.isObj(v), false);
});

// Compile-time checks of the derived types (npm run check-types fails when a line below stops holding).
const _shape = s.object({ n: s.number(), tag: s.picklist(['a', 'b']), opt: s.optional(s.boolean()), list: s.array(s.nullable(s.string())) });
type Shape = s.Infer<typeof _shape>;
const _full: Shape = { n: 1, tag: 'a', opt: true, list: ['x', null] };
const _noOpt: Shape = { n: 1, tag: 'b', list: [] };
// @ts-expect-error tag is 'a' | 'b'
const _badTag: Shape = { n: 1, tag: 'c', list: [] };
// @ts-expect-error n is required
const _noN: Shape = { tag: 'a', list: [] };
// @ts-expect-error no other keys
const _extra: Shape = { n: 1, tag: 'a', list: [], other: 1 };
type Empty = s.Infer<ReturnType<typeof s.object<Record<never, never>>>>;
// @ts-expect-error an empty object schema's type is Record<string, never>, not {} (which any value but null fits)
const _notEmpty: Empty = 5;
void [_full, _noOpt, _badTag, _noN, _extra, _notEmpty];
