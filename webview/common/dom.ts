/** DOM helpers shared by every panel's webview (no @vscode-elements imports, so the chart panels stay lean). */

/** `document.createElement(tag)` with attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** The title row parts of a snapshot panel (viewer, segmentation) and its error box, with their setters. */
export interface SnapshotChrome {
  title: HTMLHeadingElement;
  meta: HTMLSpanElement;
  status: HTMLSpanElement;
  progress: HTMLProgressElement;
  errorBox: HTMLDivElement;
  /** Sets the status text and its data-state (tests wait on it). */
  setStatus(text: string, state: string): void;
  /** Shows `message` in the error box, or hides it for null. */
  showError(message: string | null): void;
}

/** Builds #snapshot-title, #snapshot-meta, #status, #progress (hidden) and #error (hidden); the caller places them. */
export function snapshotChrome(titleText: string, progressLabel: string): SnapshotChrome {
  const title = el('h1', { id: 'snapshot-title' }, titleText);
  const meta = el('span', { id: 'snapshot-meta', class: 'muted' });
  const status = el('span', { id: 'status', role: 'status', 'data-state': 'loading' }, 'Loading…');
  const progress = el('progress', { id: 'progress', max: '1', 'aria-label': progressLabel });
  progress.hidden = true;
  const errorBox = el('div', { id: 'error', class: 'error-box', role: 'alert' });
  errorBox.hidden = true;
  return {
    title, meta, status, progress, errorBox,
    setStatus(text, state) {
      status.textContent = text;
      status.dataset.state = state;
    },
    showError(message) {
      errorBox.hidden = message === null;
      errorBox.textContent = message ?? '';
    },
  };
}
