/**
 * Following a growing JSONL file (stats.jsonl of a live run): each poll returns only what was
 * appended since the previous one.
 */
import * as fsp from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../errors';
import { JsonlDecoder, type RecordGuard } from '../../shared/jsonl';
import { fsErrorCode } from './fsErrors';
import { errMsg, isObj } from './jsonFile';

/** Default tailer guard: any JSON object. */
const anyObject = <T>(v: unknown): T | undefined => (isObj(v) ? (v as T) : undefined);

/** One batch of a JsonlTailer.pollBatches() call: the records decoded from one read of at most `chunkBytes`. */
export interface JsonlTailBatch<T> {
  records: T[];
  /** Unreadable complete lines in this batch. */
  skipped: number;
  /** True on the first batch of a poll that restarted from byte 0 (drop what earlier polls gave). */
  reset: boolean;
}

/**
 * Follows a growing JSONL file: each poll() returns only records appended since the previous poll.
 * A partial last line is held until its newline arrives. Truncation, replacement (new inode, e.g. an
 * atomic rewrite) or a rewritten beginning restarts from byte 0 with `reset: true`.
 * pollBatches() is the streaming form: records are handed over one read chunk at a time, so a 1 GB
 * backlog never exists as one array.
 */
export class JsonlTailer<T = Record<string, unknown>> {
  private offset = 0;
  private ino = 0;
  private head = Buffer.alloc(0); // first bytes consumed, to detect an in-place rewrite
  private decoder: JsonlDecoder<T>;
  private sd = new StringDecoder('utf8');
  private busy: Promise<unknown> = Promise.resolve();
  private diskBytes = 0;
  private static readonly HEAD = 64;
  private static readonly CHUNK = 1024 * 1024;
  /** Default read size of pollBatches() (bigger reads only raise the peak heap: a batch's text and records are live at once). */
  static readonly BATCH_BYTES = 1024 * 1024;

  constructor(readonly path: string, private readonly guard: RecordGuard<T> = anyObject) {
    this.decoder = new JsonlDecoder(guard);
  }

  /** Byte offset consumed so far. */
  get position(): number {
    return this.offset;
  }

  /** Bytes read from the file over all polls, re-reads after a rewrite and the rewrite probe included (≥ position). */
  get bytesRead(): number {
    return this.diskBytes;
  }

  /** True while a non-blank last line without its newline is held back (a line being written, or a torn one). */
  get hasPartialLine(): boolean {
    return this.decoder.partial.trim().length > 0;
  }

  /** New records since the last poll; concurrent calls are serialised. */
  poll(): Promise<{ records: T[]; skipped: number; reset: boolean }> {
    const records: T[] = [];
    return this.pollBatches((b) => {
      for (const r of b.records) records.push(r);
    }, { chunkBytes: JsonlTailer.CHUNK }).then(({ skipped, reset }) => ({ records, skipped, reset }));
  }

  /**
   * New records since the last poll, handed to `onBatch` per read of at most `chunkBytes` (default 1 MB;
   * awaited, so a slow consumer throttles the reading). A poll that restarted from byte 0 delivers a batch
   * with `reset: true` first (possibly empty). Resolves to the totals; serialised with poll().
   */
  pollBatches(
    onBatch: (b: JsonlTailBatch<T>) => void | Promise<void>,
    opts: { chunkBytes?: number } = {},
  ): Promise<{ records: number; skipped: number; reset: boolean }> {
    const chunkBytes = Math.max(64 * 1024, Math.floor(opts.chunkBytes ?? JsonlTailer.BATCH_BYTES));
    const run = this.busy.catch(() => undefined).then(() => this.pollOnce(onBatch, chunkBytes));
    this.busy = run;
    return run;
  }

  private restart(): void {
    this.offset = 0;
    this.ino = 0;
    this.head = Buffer.alloc(0);
    this.decoder = new JsonlDecoder(this.guard);
    this.sd = new StringDecoder('utf8');
  }

  private async pollOnce(
    onBatch: (b: JsonlTailBatch<T>) => void | Promise<void>,
    chunkBytes: number,
  ): Promise<{ records: number; skipped: number; reset: boolean }> {
    let fh: fsp.FileHandle;
    const started = this.offset > 0 || this.decoder.partial.length > 0;
    try {
      fh = await fsp.open(this.path, 'r');
    } catch (e) {
      if (fsErrorCode(e) !== 'ENOENT') throw new UserError(`Cannot read ${this.path}: ${errMsg(e)}`);
      // Gone (e.g. mid-replacement or deleted): whatever we had is no longer the file.
      if (started) {
        this.restart();
        await onBatch({ records: [], skipped: 0, reset: true });
      }
      return { records: 0, skipped: 0, reset: started };
    }
    try {
      const st = await fh.stat();
      let reset = false;
      if (started) {
        const replaced = this.ino !== 0 && st.ino !== 0 && st.ino !== this.ino;
        let rewritten = st.size < this.offset;
        if (!replaced && !rewritten && this.head.length) {
          const now = Buffer.alloc(this.head.length);
          const { bytesRead } = await fh.read(now, 0, now.length, 0);
          this.diskBytes += bytesRead;
          rewritten = bytesRead < now.length || !now.equals(this.head);
        }
        if (replaced || rewritten) {
          this.restart();
          reset = true;
        }
      }
      this.ino = st.ino;
      let records = 0;
      let skipped = 0;
      let pendingReset = reset;
      // Only the bytes present at the start of the poll: a file growing while we read waits for the next poll.
      const end = st.size;
      const buf = Buffer.alloc(Math.min(chunkBytes, Math.max(0, end - this.offset)));
      while (this.offset < end) {
        const want = Math.min(buf.length, end - this.offset);
        const { bytesRead } = await fh.read(buf, 0, want, this.offset);
        if (bytesRead <= 0) break;
        this.diskBytes += bytesRead;
        const chunk = buf.subarray(0, bytesRead);
        if (this.head.length < JsonlTailer.HEAD && this.offset < JsonlTailer.HEAD) {
          this.head = Buffer.concat([this.head, chunk.subarray(0, JsonlTailer.HEAD - this.offset)]);
        }
        this.offset += bytesRead;
        const b = this.decoder.push(this.sd.write(chunk));
        records += b.records.length;
        skipped += b.skipped;
        if (b.records.length || b.skipped || pendingReset) {
          await onBatch({ records: b.records, skipped: b.skipped, reset: pendingReset });
          pendingReset = false;
        }
      }
      if (pendingReset) await onBatch({ records: [], skipped: 0, reset: true });
      return { records, skipped, reset };
    } finally {
      await fh.close();
    }
  }
}
