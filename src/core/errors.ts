/**
 * Errors meant for people: a UserError carries a message that says what is wrong and what to do.
 * Anything else reaching the CLI or the extension is a bug and is reported with its stack.
 */
export interface UserErrorOptions {
  /** The setting this error is about (e.g. 'ganInspector.outdir'): the extension offers Open Settings on it. */
  setting?: string;
}

export class UserError extends Error {
  readonly setting?: string;
  constructor(message: string, readonly hint?: string, options: UserErrorOptions = {}) {
    super(hint ? `${message}\n  → ${hint}` : message);
    this.name = 'UserError';
    this.setting = options.setting;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof Error && e.name === 'UserError';
}

/**
 * Work was cancelled (an AbortSignal fired, a request was superseded). Not an error for people:
 * callers at the edges check `isCancelled(e)` and stay quiet.
 */
export class CancelledError extends Error {
  constructor(what = 'the operation') {
    super(`${what} was cancelled`);
    this.name = 'CancelledError';
  }
}

export function isCancelled(e: unknown): e is CancelledError {
  return e instanceof Error && e.name === 'CancelledError';
}

/** Throws CancelledError when the signal has fired (core's one way to stop between steps). */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
