// Where a path given by someone other than the local user (a browser-mode client, the renderer) may
// point: inside a set of allowed roots, after symbolic links are resolved, so neither `..` nor a
// link planted inside a root leads out of it. Names taken from configs become one safe path segment.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';

/**
 * The real location of `p`: symbolic links in its longest existing prefix resolved, the missing
 * rest appended (an output folder need not exist yet).
 */
export function realPathOf(p: string): string {
  let head = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return path.join(head, ...rest);
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}

/** Whether `child` is `root` or lies below it (both absolute and already real). */
export function isInside(child: string, root: string): boolean {
  const rel = path.relative(root, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * `given` (relative to `baseDir`) resolved through its links; throws an EngineError naming the
 * field and the allowed roots when it lies outside every root.
 */
export function confinePath(given: string, baseDir: string, roots: readonly string[], field: string): string {
  const real = realPathOf(path.resolve(baseDir, given));
  const realRoots = roots.map(realPathOf);
  if (realRoots.some((r) => isInside(real, r))) return real;
  throw new EngineError(`'${given}' resolves to '${real}', outside the folders this client may use`, {
    field,
    hint: `allowed: ${realRoots.join(', ') || '(none)'}; pick the folder in the app or start the server with --allow-root`,
  });
}

/** A config's name as one file-name segment: no separators, no `..`, never empty. */
export function safeSegment(name: string): string {
  const s = name
    .replace(/[^\w.-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 100);
  return s === '' ? 'pipeline' : s;
}
