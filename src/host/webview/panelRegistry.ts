/**
 * The open panels of one kind by key (a run folder, a snapshot, a set of runs): at most one panel per
 * key, revealed instead of opened twice, also when VS Code restores a duplicate after a reload.
 */
import type * as vscode from 'vscode';

export class PanelRegistry<P extends { readonly panel: vscode.WebviewPanel }> implements vscode.Disposable {
  private readonly panels = new Map<string, P>();

  /** Reveals the key's panel; false when none is open. */
  reveal(key: string): boolean {
    const p = this.panels.get(key);
    p?.panel.reveal();
    return p !== undefined;
  }

  /** Registers the session `create` builds for `key`; it leaves the registry when its panel closes. */
  adopt(key: string, create: (onDispose: () => void) => P): P {
    const p = create(() => {
      if (this.panels.get(key) === p) this.panels.delete(key);
    });
    this.panels.set(key, p);
    return p;
  }

  /** A panel VS Code restored: closed when the key is already shown (that one is revealed), else adopted. */
  restore(key: string, panel: vscode.WebviewPanel, create: (onDispose: () => void) => P): void {
    const existing = this.panels.get(key);
    if (existing) {
      panel.dispose();
      existing.panel.reveal();
      return;
    }
    this.adopt(key, create);
  }

  get(key: string): P | undefined {
    return this.panels.get(key);
  }

  keys(): string[] {
    return [...this.panels.keys()];
  }

  values(): P[] {
    return [...this.panels.values()];
  }

  /** Closes every panel (their sessions dispose through onDidDispose). */
  dispose(): void {
    for (const p of [...this.panels.values()]) p.panel.dispose();
    this.panels.clear();
  }
}
