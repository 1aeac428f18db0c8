import fs from 'node:fs';
import path from 'node:path';
import { ApiError, notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

export function runHandlers(ctx: ServiceContext): Pick<Handlers, 'runs.list' | 'runs.get' | 'runs.delete'> {
  const runs = ctx.store.runs;
  return {
    'runs.list': async (filter) => runs.list(filter),
    'runs.get': async ({ id }) => {
      const detail = runs.detail(id);
      if (!detail) throw notFound('run', id);
      return detail;
    },
    'runs.delete': async ({ id, artifacts = 'keep' }) => {
      const run = runs.detail(id);
      if (!run) throw notFound('run', id);
      if (run.status === 'running' || run.status === 'queued') {
        throw new ApiError('conflict', `run ${id} is ${run.status}; cancel its job before deleting it`);
      }
      const paths = run.artifacts.map((a) => a.path);
      if (artifacts === 'keep') return { deleted: runs.remove(id), removed: [], kept: paths };
      const { removed, kept } = removeOwnedExports(paths, path.join(ctx.home, 'exports'));
      return { deleted: runs.remove(id), removed, kept };
    },
  };
}

/**
 * An artifact inside `<home>/exports/<folder>/` goes with its whole export folder (the checkpoint's
 * config and tokenizer files belong to it); anything else was written where a user pointed and stays.
 */
function removeOwnedExports(
  paths: readonly string[],
  exportsRoot: string,
): { removed: string[]; kept: string[] } {
  const root = path.resolve(exportsRoot);
  const removed = new Set<string>();
  const kept: string[] = [];
  for (const p of paths) {
    const rel = path.relative(root, path.resolve(p));
    const top = rel.split(path.sep)[0];
    if (!top || rel.startsWith('..') || path.isAbsolute(rel) || top === rel) {
      kept.push(p);
      continue;
    }
    const folder = path.join(root, top);
    if (!removed.has(folder)) {
      fs.rmSync(folder, { recursive: true, force: true });
      removed.add(folder);
    }
  }
  return { removed: [...removed], kept };
}
