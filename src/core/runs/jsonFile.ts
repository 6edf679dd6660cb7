/**
 * Reads the small JSON files of a run folder (options, status, snapshot manifests) without ever
 * throwing on corrupt content, and the value helpers the run readers share.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { parseJsonLenient } from '../../shared/jsonl';
import { fsErrorCode } from './fsErrors';

const MAX_JSON_BYTES = 16 * 1024 * 1024; // options/status/snapshot manifests are KBs; refuse to slurp a huge stray file

export { isObj } from '../../shared/protocol/schema';
/** A finite number, else undefined. */
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
export const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export type JsonRead = { kind: 'ok'; value: unknown } | { kind: 'missing' } | { kind: 'corrupt'; error: string };

/** Reads and parses (leniently: NaN/Infinity allowed) one JSON file. Never throws. */
export async function readJsonFile(file: string): Promise<JsonRead> {
  try {
    const st = await fsp.stat(file);
    if (st.size > MAX_JSON_BYTES) return { kind: 'corrupt', error: `${path.basename(file)} is ${st.size} bytes, too large` };
    const text = await fsp.readFile(file, 'utf8');
    const value = parseJsonLenient(text);
    if (value === undefined) {
      return { kind: 'corrupt', error: `${path.basename(file)} is not valid JSON${text.length ? '' : ' (empty file)'}` };
    }
    return { kind: 'ok', value };
  } catch (e) {
    if (fsErrorCode(e) === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', error: `cannot read ${path.basename(file)}: ${errMsg(e)}` };
  }
}
