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

/** Base of a panel's host object; `dispose` runs once, on the panel's close or the owner's. */
export abstract class PanelSession<Local extends WebviewErrorApi, Remote extends RpcApi> implements vscode.Disposable {
  protected readonly channel: MessageHandler<Local, Remote>;
  /** Released on dispose, in order, after the channel. */
  protected readonly disposables: vscode.Disposable[] = [];
  protected disposed = false;

  constructor(readonly panel: vscode.WebviewPanel, o: PanelSessionOptions<Local, Remote>, onDispose: () => void) {
    const tag = o.label === undefined ? o.name : `${o.name} (${o.label})`;
    const c = (this.channel = new MessageHandler<Local, Remote>({
      post: (m) => panel.webview.postMessage(m),
      validators: o.validators,
      onInvalid: (reason) => o.log(`${tag}: rejected a webview message: ${reason}`),
      onHandlerError: (name, e) => o.log(`${o.name}: '${name}' failed: ${e instanceof Error ? e.message : String(e)}`),
    }));
    c.on('webviewError', ({ message }) => o.log(`${tag} error: ${message}`));
    this.disposables.push(panel.webview.onDidReceiveMessage((m: unknown) => c.handle(m)));
    this.disposables.push(panel.onDidDispose(() => {
      this.dispose();
      onDispose();
    }));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.channel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
