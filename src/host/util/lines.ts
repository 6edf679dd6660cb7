/**
 * A child process's stdout/stderr as lines, for the process managers (training, official train.py,
 * inference): split at \n or \r\n (and at a lone \r, for progress bars, when asked); a line that grows
 * past 64 KiB without a newline is passed on as it is, so the buffer stays bounded. No vscode.
 */

const MAX_PENDING = 64 * 1024;

export interface LineSplitter {
  /** Passes on the unterminated rest, if any (when the process has gone). */
  flush(): void;
}

export function splitLines(stream: NodeJS.ReadableStream | null | undefined, onLine: (line: string) => void, opts: { cr?: boolean } = {}): LineSplitter {
  const sep = opts.cr ? /\r?\n|\r/ : /\r?\n/;
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (s: string) => {
    const parts = (rest + s).split(sep);
    rest = parts.pop() ?? '';
    if (rest.length > MAX_PENDING) {
      parts.push(rest);
      rest = '';
    }
    for (const line of parts) onLine(line);
  });
  return {
    flush() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

/** Appends `line` to `tail`, keeping its last `max` lines. */
export function pushTail(tail: string[], line: string, max: number): void {
  tail.push(line);
  if (tail.length > max) tail.splice(0, tail.length - max);
}
