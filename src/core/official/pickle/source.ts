/**
 * Byte sources for the unpickler: a file read through a small moving window (so a 350 MB pickle is
 * never held in memory twice: large byte strings are recorded as (offset, length) slices of the file
 * and read only when a tensor is materialised), or an in-memory buffer.
 */
import * as fs from 'node:fs';
import { PickleError } from './errors';

/** A span of bytes of a source, not read yet. */
export interface ByteSlice {
  readonly source: ByteSource;
  readonly offset: number;
  readonly length: number;
}

export interface ByteSource {
  /** Human name (the file) for messages. */
  readonly name: string;
  readonly length: number;
  /** Copies [offset, offset+dst.length) into dst. */
  readInto(offset: number, dst: Uint8Array): void;
}

export class BufferSource implements ByteSource {
  constructor(readonly buf: Uint8Array, readonly name: string) {}
  get length(): number {
    return this.buf.length;
  }
  readInto(offset: number, dst: Uint8Array): void {
    if (offset < 0 || offset + dst.length > this.buf.length) throw new PickleError(`read past the end of ${this.name}`, this.name);
    dst.set(this.buf.subarray(offset, offset + dst.length));
  }
}

export class FileSource implements ByteSource {
  readonly length: number;
  private fd: number | null;

  constructor(readonly name: string) {
    this.fd = fs.openSync(name, 'r');
    this.length = fs.fstatSync(this.fd).size;
  }

  readInto(offset: number, dst: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.name} is closed`);
    if (offset < 0 || offset + dst.length > this.length) throw new PickleError(`read past the end of ${this.name}`, this.name);
    let done = 0;
    while (done < dst.length) {
      const n = fs.readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) throw new PickleError(`${this.name} is shorter than expected (truncated while reading)`, this.name);
      done += n;
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** A sub-range of another source, itself a source (nested pickles inside byte strings). */
export class SliceSource implements ByteSource {
  constructor(readonly slice: ByteSlice) {}
  get name(): string {
    return this.slice.source.name;
  }
  get length(): number {
    return this.slice.length;
  }
  readInto(offset: number, dst: Uint8Array): void {
    if (offset < 0 || offset + dst.length > this.slice.length) throw new PickleError('read past the end of an embedded byte string', this.name);
    this.slice.source.readInto(this.slice.offset + offset, dst);
  }
}

/** Reads a slice into a new buffer. */
export function readSlice(s: ByteSlice): Uint8Array {
  const out = new Uint8Array(s.length);
  s.source.readInto(s.offset, out);
  return out;
}

/** Window sizes: small first (a nested storage blob's header pickles are ~250 bytes), growing for long sequential reads. */
const MIN_WINDOW = 4096;
const MAX_WINDOW = 1 << 20;

/** Sequential reader over a source with a moving window; large spans can be skipped without reading. */
export class SourceReader {
  pos: number;
  private win = new Uint8Array(0);
  private winStart = 0;
  private nextWindow = MIN_WINDOW;

  constructor(readonly source: ByteSource, start = 0, readonly end = source.length) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Returns a view of the next n bytes (valid until the next call) and advances. */
  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.end) {
      throw new PickleError(`needs ${n} bytes at offset ${this.pos} but only ${Math.max(0, this.end - this.pos)} remain (truncated or corrupt)`, this.source.name);
    }
    const rel = this.pos - this.winStart;
    if (rel < 0 || rel + n > this.win.length) {
      const len = Math.min(Math.max(this.nextWindow, n), this.end - this.pos);
      this.nextWindow = Math.min(MAX_WINDOW, this.nextWindow * 4);
      this.win = new Uint8Array(len);
      this.source.readInto(this.pos, this.win);
      this.winStart = this.pos;
    }
    const r = this.pos - this.winStart;
    this.pos += n;
    return this.win.subarray(r, r + n);
  }

  /** Records the next n bytes as a slice without reading them, and advances. */
  skipSlice(n: number): ByteSlice {
    if (n < 0 || this.pos + n > this.end) {
      throw new PickleError(`declares ${n} bytes at offset ${this.pos} but only ${Math.max(0, this.end - this.pos)} remain (truncated or corrupt)`, this.source.name);
    }
    const s = { source: this.source, offset: this.pos, length: n };
    this.pos += n;
    return s;
  }

  u8(): number {
    return this.take(1)[0];
  }
  u16(): number {
    const b = this.take(2);
    return b[0] | (b[1] << 8);
  }
  u32(): number {
    const b = this.take(4);
    return (b[0] | (b[1] << 8) | (b[2] << 16)) + b[3] * 0x1000000;
  }
  i32(): number {
    const b = this.take(4);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }
  u64(): number {
    const lo = this.u32(), hi = this.u32();
    if (hi >= 0x200000) throw new PickleError(`length ${hi * 2 ** 32 + lo} at offset ${this.pos - 8} is absurd (corrupt file)`, this.source.name);
    return hi * 2 ** 32 + lo;
  }
  f64be(): number {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false);
  }
  line(): string {
    const bytes: number[] = [];
    for (;;) {
      const c = this.u8();
      if (c === 0x0a) break;
      bytes.push(c);
      if (bytes.length > 1 << 16) throw new PickleError(`a text line at offset ${this.pos} is longer than 64 KiB (corrupt file)`, this.source.name);
    }
    return Buffer.from(bytes).toString('latin1');
  }
}
