// The engine's structure, checked from its import statements (no compiler, no tfjs): no import
// cycles, nothing imported from the layers above it, and the tfjs-free modules (declarations,
// planning, budget, config, tensor layout) never reach the tfjs backend through static imports —
// a dynamic `import()` (a method's `load()`) is how they defer the heavy part.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const ENGINE = path.join(ROOT, 'src-main/engine');
const rel = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');

interface Edge {
  /** resolved repository-relative file, or the bare package name */
  to: string;
  /** `import type` / `export type` or every named specifier `type`: erased at runtime */
  typeOnly: boolean;
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

function resolveSpec(from: string, spec: string): string {
  let base: string;
  if (spec === '@contract' || spec.startsWith('@contract/'))
    base = path.join(ROOT, 'src-main/contract', spec.slice('@contract'.length));
  else if (spec.startsWith('.')) base = path.resolve(path.dirname(from), spec);
  else
    return spec.startsWith('node:')
      ? spec
      : spec
          .split('/')
          .slice(0, spec.startsWith('@') ? 2 : 1)
          .join('/');
  const stem = base.replace(/\.(m?js)$/, '');
  for (const c of [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, path.join(base, 'index.ts')])
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return rel(c);
  return `${rel(base)} (unresolved)`;
}

// `import x, { a, type b } from '…'`, `import type …`, `export { … } from '…'`, `export * from '…'`,
// `import '…'`, and `import('…')`. The clause between keyword and `from` holds only names, braces,
// commas and `* as`, so a match never runs across statements.
const STATIC = /(?:^|[\n;])\s*(import|export)\s+(type\s+)?([\w$*{}\s,]*?)\s*from\s*['"]([^'"]+)['"]/g;
const BARE = /(?:^|[\n;])\s*import\s+['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): Edge[] {
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const edges: Edge[] = [];
  for (const m of text.matchAll(STATIC)) {
    const clause = m[3]!.trim();
    const named = /^\{([\s\S]*)\}$/.exec(clause)?.[1];
    const specifiers = named
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const allTypes =
      specifiers !== undefined && specifiers.length > 0 && specifiers.every((s) => s.startsWith('type '));
    edges.push({ to: resolveSpec(file, m[4]!), typeOnly: Boolean(m[2]) || allTypes, dynamic: false });
  }
  for (const m of text.matchAll(BARE))
    edges.push({ to: resolveSpec(file, m[1]!), typeOnly: false, dynamic: false });
  for (const m of text.matchAll(DYNAMIC))
    edges.push({ to: resolveSpec(file, m[1]!), typeOnly: false, dynamic: true });
  return edges;
}

const graph = new Map<string, Edge[]>();
function edgesOf(file: string): Edge[] {
  let e = graph.get(file);
  if (!e) {
    const abs = path.join(ROOT, file);
    e = fs.existsSync(abs) && /\.(ts|tsx|mts)$/.test(file) ? importsOf(abs) : [];
    graph.set(file, e);
  }
  return e;
}

const engineFiles = sourceFiles(ENGINE).map(rel).sort();
const inEngine = (f: string) => f.startsWith('src-main/engine/');

describe('engine layering', () => {
  it('parses the engine (sanity: files found, imports resolved)', () => {
    expect(engineFiles.length).toBeGreaterThan(50);
    const unresolved = engineFiles.flatMap((f) =>
      edgesOf(f)
        .filter((e) => e.to.endsWith('(unresolved)'))
        .map((e) => `${f} -> ${e.to}`),
    );
    expect(unresolved).toEqual([]);
  });

  it('has no import cycles (static imports, types included)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const e of edgesOf(f)) {
        if (e.dynamic || !inEngine(e.to)) continue;
        const s = state.get(e.to);
        if (s === 'open') cycles.push([...stack.slice(stack.indexOf(e.to)), e.to].join(' -> '));
        else if (s === undefined) visit(e.to);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of engineFiles) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('imports nothing from the layers above it (app, store, cli, server, host, ipc, shell) or electron', () => {
    const upward = /^src-main\/(app|store|cli|server|host|ipc|shell)\/|^src-main\/[^/]+\.ts$|^electron$/;
    const bad = engineFiles.flatMap((f) =>
      edgesOf(f)
        .filter((e) => upward.test(e.to))
        .map((e) => `${f} -> ${e.to}${e.dynamic ? ' (dynamic)' : ''}`),
    );
    expect(bad).toEqual([]);
  });

  it('keeps the declarations, planning and layout modules free of tfjs (static imports)', () => {
    const tfjsFree = [
      'src-main/engine/methods/catalog.ts',
      ...engineFiles.filter((f) => /^src-main\/engine\/methods\/[^/]+\.params\.ts$/.test(f)),
      ...['plan', 'plan-state', 'budget', 'config', 'distribute'].map(
        (n) => `src-main/engine/pipeline/${n}.ts`,
      ),
      'src-main/engine/model/tensor-layout.ts',
    ];
    const missing = tfjsFree.filter((f) => !fs.existsSync(path.join(ROOT, f)));
    expect(missing).toEqual([]);
    const heavy = (to: string) => to === 'src-main/engine/tensor/backend.ts' || to.startsWith('@tensorflow/');
    const reaches: string[] = [];
    for (const start of tfjsFree) {
      // breadth-first over runtime (non-type, non-dynamic) imports, keeping the path for the report
      const via = new Map<string, string | null>([[start, null]]);
      const queue = [start];
      while (queue.length) {
        const f = queue.shift()!;
        if (heavy(f)) {
          const chain: string[] = [];
          for (let at: string | null = f; at !== null; at = via.get(at) ?? null) chain.unshift(at);
          reaches.push(chain.join(' -> '));
          break;
        }
        for (const e of edgesOf(f)) {
          if (e.typeOnly || e.dynamic || via.has(e.to)) continue;
          if (!e.to.startsWith('src-main/') && !heavy(e.to)) continue;
          via.set(e.to, f);
          queue.push(e.to);
        }
      }
    }
    expect(reaches).toEqual([]);
  });
});

describe('contract layering', () => {
  it('the contract (imported by the renderer) imports only zod and itself: no Node, Electron or engine', () => {
    const contract = sourceFiles(path.join(ROOT, 'src-main/contract')).map(rel);
    const bad = contract.flatMap((f) =>
      edgesOf(f)
        .filter((e) => e.to !== 'zod' && !e.to.startsWith('src-main/contract/'))
        .map((e) => `${f} -> ${e.to}`),
    );
    expect(bad).toEqual([]);
  });
});
