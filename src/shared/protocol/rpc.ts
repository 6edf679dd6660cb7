/**
 * A small typed message channel used on both ends of every webview (host and browser): fire-and-forget
 * events plus requests with numeric ids whose replies are matched by id, with timeouts. Transport-free:
 * the owner supplies `post` and feeds incoming messages to `handle`. No vscode, no DOM.
 *
 * Each side is described by an RpcApi: the events it receives and the requests it answers.
 * `MessageHandler<Local, Remote>` handles Local's messages and sends Remote's.
 */
import { isObj } from './schema';

/** What one side of a channel receives: events by name, and requests by name with their params/result. */
export interface RpcApi {
  events: Record<string, unknown>;
  requests: Record<string, { params: unknown; result: unknown }>;
}

export type RpcEnvelope =
  | { rpc: 1; kind: 'event'; name: string; payload: unknown }
  | { rpc: 1; kind: 'request'; id: number; name: string; params: unknown }
  | { rpc: 1; kind: 'reply'; id: number; ok: true; result: unknown }
  | { rpc: 1; kind: 'reply'; id: number; ok: false; error: string };

/** A payload guard; one made from a schema (schema.ts `guard`) also says what is wrong with a value. */
export type Guard<T> = ((v: unknown) => v is T) & { explain?: (v: unknown) => string | undefined };

/**
 * Guards for everything a side receives. Mapped over the api, so adding a message without a guard is a
 * compile error. `results` guards replies to the requests this side sends (optional per name).
 */
export interface RpcValidators<Local extends RpcApi, Remote extends RpcApi = RpcApi> {
  events: { [K in keyof Local['events']]: Guard<Local['events'][K]> };
  requests: { [K in keyof Local['requests']]: Guard<Local['requests'][K]['params']> };
  results?: { [K in keyof Remote['requests']]?: Guard<Remote['requests'][K]['result']> };
}

export interface MessageHandlerOptions<Local extends RpcApi, Remote extends RpcApi> {
  /** Sends one envelope to the other side. */
  post: (msg: RpcEnvelope) => void | PromiseLike<unknown>;
  /** When given, every incoming event/request is checked and rejected when it fails (the host always passes these). */
  validators?: RpcValidators<Local, Remote>;
  /** Default request timeout in ms (10 s). */
  timeoutMs?: number;
  /**
   * Called for every rejected message: malformed envelope, unknown name, failed guard, unknown reply id.
   * `detail`: where a payload failed its schema ("psi: 3 is out of range [-1, 2]"), when the guard can say.
   */
  onInvalid?: (reason: string, message: unknown, detail?: string) => void;
  /** Called when an event handler throws (events have no reply to carry the error). */
  onHandlerError?: (name: string, error: unknown) => void;
}

/** Rejection reason of a request whose reply did not arrive in time. */
export class RpcTimeoutError extends Error {
  constructor(readonly requestName: string, readonly timeoutMs: number) {
    super(`Request '${requestName}' got no reply within ${timeoutMs} ms.`);
    this.name = 'RpcTimeoutError';
  }
}

/** Rejection reason of a request the other side answered with an error. */
export class RpcRemoteError extends Error {
  constructor(readonly requestName: string, message: string) {
    super(message);
    this.name = 'RpcRemoteError';
  }
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Structural check of an envelope (not of its payload). */
export function isRpcEnvelope(m: unknown): m is RpcEnvelope {
  if (!isObj(m) || m.rpc !== 1) return false;
  switch (m.kind) {
    case 'event': return typeof m.name === 'string' && m.name.length > 0 && m.name.length <= 100;
    case 'request': return isId(m.id) && typeof m.name === 'string' && m.name.length > 0 && m.name.length <= 100;
    case 'reply': return isId(m.id) && (m.ok === true ? 'result' in m || m.result === undefined : m.ok === false && typeof m.error === 'string');
    default: return false;
  }
}

interface Pending {
  name: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

type EventFn = (payload: never) => void;
type RequestFn = (params: never) => unknown;

/** Typed events + requests over any postMessage-like transport. */
export class MessageHandler<Local extends RpcApi, Remote extends RpcApi> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly eventHandlers = new Map<string, Set<EventFn>>();
  private readonly requestHandlers = new Map<string, RequestFn>();
  private disposed = false;

  constructor(private readonly opts: MessageHandlerOptions<Local, Remote>) {}

  /** Registers an event listener; returns an unsubscribe function. */
  on<K extends keyof Local['events'] & string>(name: K, fn: (payload: Local['events'][K]) => void): () => void {
    let set = this.eventHandlers.get(name);
    if (!set) this.eventHandlers.set(name, (set = new Set()));
    set.add(fn as EventFn);
    return () => set!.delete(fn as EventFn);
  }

  /** Registers the (single) handler of a request; returns an unregister function. */
  onRequest<K extends keyof Local['requests'] & string>(
    name: K,
    fn: (params: Local['requests'][K]['params']) => Local['requests'][K]['result'] | PromiseLike<Local['requests'][K]['result']>,
  ): () => void {
    this.requestHandlers.set(name, fn as RequestFn);
    return () => {
      if (this.requestHandlers.get(name) === (fn as RequestFn)) this.requestHandlers.delete(name);
    };
  }

  /** Sends an event to the other side; the promise settles when the transport accepted it (never rejects). */
  emit<K extends keyof Remote['events'] & string>(name: K, payload: Remote['events'][K]): Promise<void> {
    if (this.disposed) return Promise.resolve();
    return this.send({ rpc: 1, kind: 'event', name, payload }).catch((e: unknown) => this.opts.onHandlerError?.(name, e));
  }

  /** Sends a request and resolves with the reply's result; rejects on error reply, timeout or dispose. */
  request<K extends keyof Remote['requests'] & string>(
    name: K,
    params: Remote['requests'][K]['params'],
    options: { timeoutMs?: number } = {},
  ): Promise<Remote['requests'][K]['result']> {
    if (this.disposed) return Promise.reject(new Error(`Channel closed; cannot send '${name}'.`));
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      const p: Pending = { name, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RpcTimeoutError(name, timeoutMs));
        }, timeoutMs);
      }
      this.pending.set(id, p);
      this.send({ rpc: 1, kind: 'request', id, name, params }).catch((e: unknown) => {
        this.settle(id, () => reject(e instanceof Error ? e : new Error(String(e))));
      });
    });
  }

  /** Number of requests still waiting for a reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Feeds one incoming message; anything that is not a valid envelope/payload is rejected via onInvalid. */
  handle(raw: unknown): void {
    if (this.disposed) return;
    if (!isRpcEnvelope(raw)) return this.invalid('not an rpc envelope', raw);
    switch (raw.kind) {
      case 'event': return this.handleEvent(raw.name, raw.payload, raw);
      case 'request': return this.handleRequest(raw.id, raw.name, raw.params, raw);
      case 'reply': return this.handleReply(raw);
    }
  }

  /** Rejects pending requests and ignores all later traffic. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const [id, p] of this.pending) this.settle(id, () => p.reject(new Error(`Channel closed before '${p.name}' was answered.`)));
    this.eventHandlers.clear();
    this.requestHandlers.clear();
  }

  private handleEvent(name: string, payload: unknown, raw: unknown): void {
    const v = this.opts.validators;
    if (v) {
      const guard = own(v.events, name) as Guard<unknown> | undefined;
      if (!guard) return this.invalid(`unknown event '${name}'`, raw);
      if (!guard(payload)) return this.invalid(`invalid payload for event '${name}'`, raw, guard.explain?.(payload));
    }
    const set = this.eventHandlers.get(name);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (p: unknown) => void)(payload);
      } catch (e) {
        this.opts.onHandlerError?.(name, e);
      }
    }
  }

  private handleRequest(id: number, name: string, params: unknown, raw: unknown): void {
    const v = this.opts.validators;
    if (v) {
      const guard = own(v.requests, name) as Guard<unknown> | undefined;
      if (!guard) {
        this.invalid(`unknown request '${name}'`, raw);
        return this.reply(id, false, `Unknown request '${name}'.`);
      }
      if (!guard(params)) {
        this.invalid(`invalid params for request '${name}'`, raw, guard.explain?.(params));
        return this.reply(id, false, `Invalid parameters for '${name}'.`);
      }
    }
    const fn = this.requestHandlers.get(name);
    if (!fn) return this.reply(id, false, `No handler for request '${name}'.`);
    let out: unknown;
    try {
      out = (fn as (p: unknown) => unknown)(params);
    } catch (e) {
      return this.reply(id, false, errorText(e));
    }
    Promise.resolve(out).then(
      (result) => this.reply(id, true, result),
      (e: unknown) => this.reply(id, false, errorText(e)),
    );
  }

  private handleReply(raw: Extract<RpcEnvelope, { kind: 'reply' }>): void {
    const p = this.pending.get(raw.id);
    if (!p) return this.invalid(`reply to unknown request id ${raw.id}`, raw);
    if (!raw.ok) return this.settle(raw.id, () => p.reject(new RpcRemoteError(p.name, raw.error)));
    const guard = this.opts.validators?.results ? (own(this.opts.validators.results, p.name) as Guard<unknown> | undefined) : undefined;
    if (guard && !guard(raw.result)) {
      this.invalid(`invalid result for request '${p.name}'`, raw, guard.explain?.(raw.result));
      return this.settle(raw.id, () => p.reject(new RpcRemoteError(p.name, `Invalid reply to '${p.name}'.`)));
    }
    this.settle(raw.id, () => p.resolve(raw.result));
  }

  private settle(id: number, fn: () => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (p.timer !== undefined) clearTimeout(p.timer);
    this.pending.delete(id);
    fn();
  }

  private reply(id: number, ok: boolean, resultOrError: unknown): void {
    if (this.disposed) return;
    const msg: RpcEnvelope = ok
      ? { rpc: 1, kind: 'reply', id, ok: true, result: resultOrError }
      : { rpc: 1, kind: 'reply', id, ok: false, error: String(resultOrError) };
    void this.send(msg).catch(() => undefined);
  }

  private async send(msg: RpcEnvelope): Promise<void> {
    await this.opts.post(msg);
  }

  private invalid(reason: string, message: unknown, detail?: string): void {
    this.opts.onInvalid?.(reason, message, detail);
  }
}

/** Own-property lookup, so names like '__proto__' or 'toString' never resolve to inherited members. */
function own(obj: object, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
