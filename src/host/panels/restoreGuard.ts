/**
 * What a panel restored after a window reload may open. Its state comes from the webview (which
 * saved it with setState), so it is untrusted input: only folders under the workspace folders or the
 * configured runs roots are accepted (symbolic links resolved first, so a link cannot lead out), and
 * a snapshot must lie inside such a run folder. Everything else is dropped with a log line, and the
 * panel says why (admitRestore: the one restore path of every panel kind). No vscode at run time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { messageHtml } from '../webview/html';

export type RestoreCheck = { ok: true; path: string } | { ok: false; reason: string };

const real = (p: string): string | undefined => {
  try {
    return fs.realpathSync.native(p);
  } catch {
    return undefined;
  }
};

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!!rel && !rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Checks one restored path: a non-empty absolute string naming an existing folder whose real path
 * lies under the real path of one of `roots`. Returns the real path to open.
 */
export function checkRestoredFolder(p: unknown, roots: readonly string[]): RestoreCheck {
  return checkRestoredPath(p, roots, 'folder');
}

/** checkRestoredFolder for a folder or (official .pkl snapshots) a file. */
function checkRestoredPath(p: unknown, roots: readonly string[], kind: 'folder' | 'file'): RestoreCheck {
  if (typeof p !== 'string' || !p.trim()) return { ok: false, reason: 'not a path' };
  if (p.length > 4096 || p.includes('\0')) return { ok: false, reason: 'not a usable path' };
  if (!path.isAbsolute(p)) return { ok: false, reason: `${p} is not an absolute path` };
  const r = real(p);
  if (!r) return { ok: false, reason: `${p} does not exist` };
  try {
    const st = fs.statSync(r);
    if (kind === 'folder' ? !st.isDirectory() : !st.isFile()) return { ok: false, reason: `${p} is not a ${kind}` };
  } catch {
    return { ok: false, reason: `${p} cannot be read` };
  }
  const realRoots = roots.map(real).filter((x): x is string => !!x);
  if (!realRoots.some((root) => inside(r, root))) {
    return { ok: false, reason: `${p}${r !== path.resolve(p) ? ` (really ${r})` : ''} is outside the workspace and ganInspector.runsRoots` };
  }
  return { ok: true, path: r };
}

/**
 * A restored snapshot: allowed like a folder (an official network-snapshot-*.pkl: like a file), and it
 * must be a network-snapshot-* inside a run folder.
 */
export function checkRestoredSnapshot(p: unknown, roots: readonly string[]): RestoreCheck {
  const pkl = typeof p === 'string' && /^network-snapshot-[^/\\]*\.pkl$/.test(path.basename(p));
  const c = checkRestoredPath(p, roots, pkl ? 'file' : 'folder');
  if (!c.ok) return c;
  if (!/^network-snapshot-/.test(path.basename(c.path))) return { ok: false, reason: `${String(p)} is not a network-snapshot-* folder` };
  const run = path.dirname(c.path);
  if (!['training_options.json', 'stats.jsonl', 'status.json'].some((f) => fs.existsSync(path.join(run, f)))) {
    return { ok: false, reason: `${String(p)} is not inside a run folder` };
  }
  return c;
}

/** Checks every folder of a restored comparison; any bad one drops it (with all the reasons). */
export function checkRestoredFolders(ps: unknown, roots: readonly string[]): { ok: true; paths: string[] } | { ok: false; reason: string } {
  if (!Array.isArray(ps) || !ps.length || ps.length > 64) return { ok: false, reason: 'not a list of run folders' };
  const checks = ps.map((p) => checkRestoredFolder(p, roots));
  const bad = checks.filter((c): c is { ok: false; reason: string } => !c.ok);
  if (bad.length) return { ok: false, reason: bad.map((b) => b.reason).join('; ') };
  return { ok: true, paths: checks.map((c) => (c as { ok: true; path: string }).path) };
}

/** What a panel kind shows when one of its panels is not restored. */
export interface RestoreTexts {
  /** For the log: 'a loss-curves panel'. */
  what: string;
  /** Its saved state is unreadable. */
  unreadable: string;
  /** Its path is refused (outside the workspace and the runs roots, gone, not a run). */
  refused: string;
}

/**
 * The restore path of every panel: the state its webview saved must pass `isState`, and its paths
 * `check`; otherwise the panel shows the matching text and the log says what was dropped and why.
 * Returns the passed check, or undefined.
 */
export function admitRestore<S, C extends { ok: true }>(
  panel: { readonly webview: { html: string } },
  state: unknown,
  isState: (v: unknown) => v is S,
  check: (s: S) => C | { ok: false; reason: string },
  texts: RestoreTexts,
  log: (line: string) => void,
): C | undefined {
  if (!isState(state)) {
    panel.webview.html = messageHtml(texts.unreadable);
    return undefined;
  }
  const c = check(state);
  if (!c.ok) {
    log(`Restore: dropped ${texts.what}: ${c.reason}.`);
    panel.webview.html = messageHtml(texts.refused);
    return undefined;
  }
  return c;
}
