/**
 * The host side of one open webview panel, shared by every panel: a MessageHandler that validates each
 * incoming message (rejects and handler failures go to the log), the webview's own error reports
 * logged, and disposal tied to the panel's. Subclasses register their handlers and set the HTML.
 */
import type * as vscode from 'vscode';
import { MessageHandler, type RpcApi, type RpcValidators } from '../../shared/protocol/rpc';

/** What every panel's webview can send: its uncaught errors. */
export interface WebviewErrorApi extends RpcApi {
  events: { webviewError: { message: string } };
}

export interface PanelSessionOptions<Local extends RpcApi, Remote extends RpcApi> {
  /** Log prefix, e.g. 'Loss panel'. */
  name: string;
  /** Shown as "name (label)" in rejected-message and webview-error lines, e.g. the run folder's name. */
  label?: string;
  /** Guards for every message the webview sends (required: the host never trusts the webview). */
  validators: RpcValidators<Local, Remote>;
  log: (line: string) => void;
}

/** How long a visible webview may stay silent after its HTML is set before it is loaded again. */
export const WEBVIEW_START_TIMEOUT_MS = 15_000;
/** How many times a silent webview is loaded again before the panel gives up (and says so in the log). */
const WEBVIEW_RELOADS = 2;

/** Base of a panel's host object; `dispose` runs once, on the panel's close or the owner's. */
export abstract class PanelSession<Local extends WebviewErrorApi, Remote extends RpcApi> implements vscode.Disposable {
  protected readonly channel: MessageHandler<Local, Remote>;
  /** Released on dispose, in order, after the channel. */
  protected readonly disposables: vscode.Disposable[] = [];
  protected disposed = false;
  /** Whether the webview has sent anything since its HTML was set (each page starts with a request). */
  private hasStarted = false;
  private resolveStarted!: () => void;
  /** Resolves when the webview first sends a message, i.e. its page has loaded and connected. */
  readonly started = new Promise<void>((resolve) => (this.resolveStarted = resolve));
  private startTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly log: (line: string) => void;
  private readonly tag: string;

  constructor(readonly panel: vscode.WebviewPanel, o: PanelSessionOptions<Local, Remote>, onDispose: () => void) {
    const tag = (this.tag = o.label === undefined ? o.name : `${o.name} (${o.label})`);
    this.log = o.log;
    const c = (this.channel = new MessageHandler<Local, Remote>({
      post: (m) => panel.webview.postMessage(m),
      validators: o.validators,
      onInvalid: (reason, _m, detail) => o.log(`${tag}: rejected a webview message: ${reason}${detail ? ` (${detail})` : ''}`),
      onHandlerError: (name, e) => o.log(`${o.name}: '${name}' failed: ${e instanceof Error ? e.message : String(e)}`),
    }));
    c.on('webviewError', ({ message }) => o.log(`${tag} error: ${message}`));
    this.disposables.push(panel.webview.onDidReceiveMessage((m: unknown) => {
      this.hasStarted = true;
      this.resolveStarted();
      c.handle(m);
    }));
    this.disposables.push(panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    }));
  }

  /**
   * Sets the webview's HTML (`make` returns a fresh page, with a new nonce) and watches that the page
   * starts. A page whose script never loads stays blank and silent — seen in VS Code for the web when
   * two panels are created and laid out at once (their resource requests fail) — so a visible webview
   * that sends nothing within WEBVIEW_START_TIMEOUT_MS is loaded again, at most WEBVIEW_RELOADS times.
   */
  protected setHtml(make: () => string): void {
    this.hasStarted = false;
    this.panel.webview.html = make();
    let reloads = 0;
    const arm = () => {
      clearTimeout(this.startTimer);
      this.startTimer = setTimeout(check, WEBVIEW_START_TIMEOUT_MS);
    };
    const check = () => {
      if (this.disposed || this.hasStarted) return;
      if (!this.panel.visible) return arm(); // a hidden webview loads when it is shown
      if (reloads >= WEBVIEW_RELOADS) {
        this.log(`${this.tag}: the webview did not start after ${reloads} reloads; close the panel and open it again`);
        return;
      }
      reloads++;
      this.log(`${this.tag}: the webview sent nothing within ${WEBVIEW_START_TIMEOUT_MS / 1000} s of loading; loading it again (${reloads}/${WEBVIEW_RELOADS})`);
      this.panel.webview.html = make();
      arm();
    };
    arm();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.startTimer);
    this.channel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
