/**
 * The webview end of a panel's rpc channel (src/shared/protocol/rpc.ts) over acquireVsCodeApi, plus
 * typed persisted state. acquireVsCodeApi may be called only once per page, so everything goes through here.
 */
import { MessageHandler, type RpcApi, type RpcValidators } from '../../src/shared/protocol/rpc';

let api: ReturnType<typeof acquireVsCodeApi> | undefined;

/** The page's single VS Code API object. */
export function vscodeApi(): ReturnType<typeof acquireVsCodeApi> {
  return (api ??= acquireVsCodeApi());
}

export interface ConnectOptions<Local extends RpcApi, Remote extends RpcApi> {
  timeoutMs?: number;
  /** Guards for every host → page message (and replies); a message failing them is reported and dropped. */
  validators?: RpcValidators<Local, Remote>;
  /** Told about every dropped message (after the console warning), e.g. to report it to the host. */
  onInvalid?: (reason: string) => void;
}

/** Connects a MessageHandler to the host: `Local` is what this page receives, `Remote` what the host handles. */
export function connect<Local extends RpcApi, Remote extends RpcApi>(opts: ConnectOptions<Local, Remote> = {}): MessageHandler<Local, Remote> {
  const vs = vscodeApi();
  const channel = new MessageHandler<Local, Remote>({
    post: (m) => vs.postMessage(m),
    timeoutMs: opts.timeoutMs ?? 15_000,
    validators: opts.validators,
    onInvalid: (reason, m, detail) => {
      console.warn(`[gan-inspector] ignored message from host: ${reason}${detail ? ` (${detail})` : ''}`, m);
      opts.onInvalid?.(reason);
    },
    onHandlerError: (name, e) => console.error(`[gan-inspector] handler of '${name}' failed`, e),
  });
  window.addEventListener('message', (e: MessageEvent) => channel.handle(e.data));
  return channel;
}

/** Reads this page's persisted state if it passes `guard`. */
export function loadState<T>(guard: (v: unknown) => v is T): T | undefined {
  const s: unknown = vscodeApi().getState();
  return guard(s) ? s : undefined;
}

/** Persists state (restored on reload and handed to the panel serializer). */
export function saveState<T>(state: T): void {
  vscodeApi().setState(state);
}

/** Reports uncaught errors to the host (Output channel) through `report`. */
export function reportErrors(report: (message: string) => void): void {
  window.addEventListener('error', (e) => report(`${e.message} at ${e.filename}:${e.lineno}:${e.colno}`));
  window.addEventListener('unhandledrejection', (e) => report(`Unhandled rejection: ${e.reason instanceof Error ? e.reason.stack ?? e.reason.message : String(e.reason)}`));
}
