// Probe extension for the e2e harness self-test: two webview panels in two editor groups, a webview
// view, a tree view, a quick pick + input box flow and a panel whose inline script breaks its CSP.
const vscode = require('vscode');

function html(webview, title, body, { inlineScript = false } = {}) {
  const nonce = String(Math.random()).slice(2);
  const script = inlineScript
    ? '<script>document.getElementById("msg").textContent = "INLINE-RAN";</script>'
    : `<script nonce="${nonce}">document.getElementById("ran").textContent = "script ran"; acquireVsCodeApi().postMessage("ready");</script>`;
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<title>${title}</title></head><body><h1 id="msg">${body}</h1><p id="ran"></p>${script}</body></html>`;
}

exports.activate = (ctx) => {
  const items = ['alpha-run', 'beta-run'];
  ctx.subscriptions.push(vscode.window.registerTreeDataProvider('e2eProbe.items', {
    getTreeItem: (label) => new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None),
    getChildren: () => items,
  }));
  ctx.subscriptions.push(vscode.window.registerWebviewViewProvider('e2eProbe.view', {
    resolveWebviewView(view) {
      view.webview.options = { enableScripts: true };
      view.webview.html = html(view.webview, 'Probe View', 'VIEW-CONTENT');
    },
  }));
  const panel = (title, body, column, opt) => {
    const p = vscode.window.createWebviewPanel('e2eProbe.panel', title, column, { enableScripts: true });
    p.webview.html = html(p.webview, title, body, opt);
    return p;
  };
  // Resolves when the panel's script has run (or after 20 s, so a stuck panel still fails the test
  // on what is visible rather than hanging the command).
  const ready = (p) => new Promise((resolve) => {
    const t = setTimeout(resolve, 20_000);
    const sub = p.webview.onDidReceiveMessage(() => { clearTimeout(t); sub.dispose(); resolve(); });
  });
  ctx.subscriptions.push(vscode.commands.registerCommand('e2eProbe.openPanels', async () => {
    // B's group is created only once A is showing: opened back to back on a loaded machine, the
    // workbench once laid out group 2 before A's webview had come up and A never became visible.
    await ready(panel('Probe A', 'PANEL-A', vscode.ViewColumn.One));
    await ready(panel('Probe B', 'PANEL-B', vscode.ViewColumn.Two));
  }));
  ctx.subscriptions.push(vscode.commands.registerCommand('e2eProbe.violateCsp', () => {
    panel('Probe CSP', 'PANEL-CSP', vscode.ViewColumn.One, { inlineScript: true });
  }));
  ctx.subscriptions.push(vscode.commands.registerCommand('e2eProbe.ask', async () => {
    const pick = await vscode.window.showQuickPick(['gamma', 'delta', 'epsilon'], { placeHolder: 'Pick one' });
    if (!pick) return;
    const text = await vscode.window.showInputBox({
      prompt: 'Type a word',
      validateInput: (v) => (/^[a-z]+$/.test(v) ? undefined : 'letters only'),
    });
    if (text) vscode.window.showInformationMessage(`probe picked ${pick} typed ${text}`);
  }));
};
exports.deactivate = () => {};
