/**
 * The one HTML builder for every webview panel: strict CSP (no inline script or style; scripts need the
 * per-render nonce), the panel's bundle from dist/webview, and the webview options with the smallest
 * set of local resource roots. Only type imports from 'vscode', so the pure parts are unit-tested.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type * as vscode from 'vscode';

/** A fresh base64 nonce for one render. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The Content-Security-Policy of every panel. Styles: stylesheet files and constructable sheets only (no 'unsafe-inline'). */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data: blob:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export interface HtmlParts {
  cspSource: string;
  nonce: string;
  title: string;
  scriptUri: string;
  styleUris: string[];
  /** Panel name, set as body[data-panel] for tests and styles. */
  panel: string;
}

/** Renders the page shell; the bundle builds the UI. */
export function renderWebviewHtml(p: HtmlParts): string {
  const styles = p.styleUris.map((u) => `  <link rel="stylesheet" href="${escapeHtml(u)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(p.cspSource, p.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeHtml(p.title)}</title>
${styles}
</head>
<body data-panel="${escapeHtml(p.panel)}">
  <noscript>This panel needs JavaScript.</noscript>
  <script nonce="${escapeHtml(p.nonce)}" src="${escapeHtml(p.scriptUri)}"></script>
</body>
</html>`;
}

/** `base` with path segments appended (no runtime 'vscode' import needed). */
export function joinUri(base: vscode.Uri, ...segments: string[]): vscode.Uri {
  return base.with({ path: path.posix.join(base.path, ...segments) });
}

/** HTML of panel `panel` (dist/webview/<panel>.js + .css) for this webview, with a new nonce. */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, panel: string, title: string): string {
  const dir = joinUri(extensionUri, 'dist', 'webview');
  return renderWebviewHtml({
    cspSource: webview.cspSource,
    nonce: makeNonce(),
    title,
    panel,
    scriptUri: webview.asWebviewUri(joinUri(dir, `${panel}.js`)).toString(),
    styleUris: [webview.asWebviewUri(joinUri(dir, `${panel}.css`)).toString()],
  });
}

/** Webview options: scripts on, and only dist/webview, media and the given folders (e.g. the run folders shown) readable. */
export function webviewOptions(extensionUri: vscode.Uri, extraRoots: vscode.Uri[] = []): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [joinUri(extensionUri, 'dist', 'webview'), joinUri(extensionUri, 'media'), ...extraRoots],
  };
}

/** A script-free page that only says `text` (e.g. why a panel could not be restored). */
export function messageHtml(text: string): string {
  return `<!DOCTYPE html><html><body><p>${escapeHtml(text)}</p></body></html>`;
}
