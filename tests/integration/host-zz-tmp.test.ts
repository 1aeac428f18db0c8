// The main side (store, host, app services) must never load tfjs: compute belongs to engine
// workers. Walk the static import graph from createApp and the store and look for it.
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../src-main');
const importRe =
  /^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

function staticGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const specs = [...fs.readFileSync(file, 'utf8').matchAll(importRe)].map((m) => (m[1] ?? m[2])!);
    seen.set(file, specs);
    for (const s of specs) {
      if (!s.startsWith('.')) continue;
      const base = path.resolve(path.dirname(file), s);
      const hit = [base, `${base}.ts`, path.join(base, 'index.ts')].find(
        (f) => fs.existsSync(f) && fs.statSync(f).isFile(),
      );
      if (hit) visit(hit);
    }
  };
  visit(entry);
  return seen;
}

it.each(['host/worker-main.ts'])('%s never statically imports tfjs', (entry) => {
  const graph = staticGraph(path.join(root, entry));
  expect(graph.size).toBeGreaterThan(3);
  const offenders = [...graph].filter(([, specs]) =>
    specs.some((s) => s.startsWith('@tensorflow/') || s.endsWith('tensor/backend')),
  );
  expect(offenders.map(([f]) => path.relative(root, f))).toEqual([]);
});
