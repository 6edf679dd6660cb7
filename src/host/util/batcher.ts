/**
 * Collects keys (e.g. run folders touched by file events) and flushes them together at most once per
 * window: the first key starts a timer of `delayMs`, later keys join the batch. Unlike a trailing
 * debounce, a steady stream of events cannot postpone the flush forever. No vscode imports.
 */
export class KeyedBatcher<K> {
  private pending = new Set<K>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(private readonly delayMs: number, private readonly flush: (keys: Set<K>) => void | Promise<void>) {}

  /** Queues a key for the next flush. */
  add(key: K): void {
    if (this.disposed) return;
    this.pending.add(key);
    this.timer ??= setTimeout(() => this.fire(), this.delayMs);
  }

  /** Flushes now (pending keys, if any). */
  flushNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.fire();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private fire(): void {
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const keys = this.pending;
    this.pending = new Set();
    void Promise.resolve()
      .then(() => this.flush(keys))
      .catch(() => undefined);
  }
}
