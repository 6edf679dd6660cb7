/**
 * File-system errors as messages for people: a disk that is full, a read-only or forbidden folder,
 * a folder where a file should be, a name that is too long. Used by the CLI, the training loop
 * (status.json's lastError) and the extension's notifications, so none of them shows a stack.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUserError, UserError } from '../errors';

const FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EISDIR', 'ENOTDIR', 'ENAMETOOLONG', 'EMFILE', 'ENFILE', 'EEXIST', 'ENOENT', 'ELOOP', 'EIO', 'EFBIG']);

/** The errno code of a file-system error (undefined for anything else). */
export function fsErrorCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && FS_CODES.has(code) ? code : undefined;
}

/** Free space of the file system holding `p` (or its nearest existing parent) in MB; undefined when unknown. */
export function freeMegabytes(p: string): number | undefined {
  let dir = path.resolve(p);
  for (;;) {
    try {
      const s = fs.statfsSync(dir);
      return (s.bavail * s.bsize) / 2 ** 20;
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  }
}

/** Extra context for the message: what was being written, and what to do about a full disk. */
export interface FsErrorContext {
  /** e.g. 'writing the run folder', 'writing the PNG'. */
  doing?: string;
  /** Which option chooses the location ('--outdir', '--out'); named in the hint. */
  option?: string;
  /** Appended to the hint (e.g. "the run stopped after saving snapshot X; resume with …"). */
  then?: string;
}

/**
 * A UserError for a file-system error (or `e` unchanged when it is a UserError already); undefined
 * for anything else, which stays a bug report.
 */
export function fsUserError(e: unknown, ctx: FsErrorContext = {}): UserError | undefined {
  if (isUserError(e)) return e;
  const code = fsErrorCode(e);
  if (!code) return undefined;
  const err = e as NodeJS.ErrnoException;
  const p = err.path ?? (err as { dest?: string }).dest ?? '';
  const where = p ? ` ${p}` : '';
  const doing = ctx.doing ? ` while ${ctx.doing}` : '';
  const opt = ctx.option ?? 'location';
  const then = ctx.then ? ` ${ctx.then}` : '';
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG': {
      const free = p ? freeMegabytes(p) : undefined;
      const freeText = free !== undefined ? ` (${free.toFixed(1)} MB free)` : '';
      return new UserError(`Disk full${freeText}${doing}: could not write${where}.`,
        `Free some space (a few hundred MB) or choose another ${ctx.option ?? 'output folder'}.${then}`);
    }
    case 'EROFS':
      return new UserError(`Read-only file system${doing}: cannot write${where}.`, `Choose a writable ${opt}.${then}`);
    case 'EACCES':
    case 'EPERM':
      return new UserError(`Permission denied${doing}: cannot write${where}.`, `Check the folder's permissions or choose another ${ctx.option ?? 'location'}.${then}`);
    case 'EISDIR':
      return new UserError(`${p || 'The target'} is a folder where a file should be${ctx.doing ? ` (${ctx.doing})` : ''}.`, `Give a file name${ctx.option ? ` to ${ctx.option}` : ''}, or move the folder away.${then}`);
    case 'ENOTDIR':
      return new UserError(`A part of${where || ' the path'} is a file, not a folder${doing}.`, `Check the path.${then}`);
    case 'ENAMETOOLONG':
      return new UserError(`File name too long${doing}:${where.slice(0, 120)}${where.length > 120 ? '…' : ''}.`, `Use a shorter path or --desc.${then}`);
    case 'EMFILE':
    case 'ENFILE':
      return new UserError(`Too many open files${doing}.`, `Close other programs or raise the limit (ulimit -n).${then}`);
    case 'ELOOP':
      return new UserError(`Too many symbolic links${doing}:${where}.`, `Check the path.${then}`);
    case 'EIO':
      return new UserError(`Input/output error${doing}:${where} (a failing disk or network mount).`, `Check the disk.${then}`);
    case 'EEXIST':
      return new UserError(`${p || 'The target'} already exists${doing}.`, `Choose another name.${then}`);
    case 'ENOENT':
      return new UserError(`No such file or folder${doing}:${where}.`, `Check the path.${then}`);
  }
  return undefined;
}

/** A message for any error: a person's message for UserErrors and file-system errors, else the stack. */
export function errorText(e: unknown, ctx: FsErrorContext = {}): { message: string; userError: boolean } {
  const u = fsUserError(e, ctx);
  if (u) return { message: u.message, userError: true };
  return { message: (e as Error)?.stack ?? String(e), userError: false };
}
