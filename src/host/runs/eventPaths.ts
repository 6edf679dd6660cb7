/** Maps file-system event paths to run folders. No vscode imports. */
import * as path from 'node:path';

/** Where an event path lies relative to the roots: inside a run folder, or a structural change (root / run folder itself). */
export function classifyEventPath(roots: string[], file: string): { runDir: string; file: string } | { structural: true } | undefined {
  const f = path.resolve(file);
  for (const root of roots) {
    const rel = path.relative(root, f);
    if (rel === '') return { structural: true };
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const parts = rel.split(path.sep);
    // Writers' temp files start with '.'; their rename onto the real name produces the event we want.
    if (parts.some((p) => p.startsWith('.'))) return undefined;
    if (parts.length === 1) return { structural: true };
    return { runDir: path.join(root, parts[0]), file: parts.slice(1).join('/') };
  }
  return undefined;
}
