// The threaded wasm build (engine/tensor/wasm-threads.ts): a child process started with
// MOE_THREADS=2 really runs two XNNPACK threads and computes what the single-threaded build does
// (a matmul and a model forward to 1e-5), and exits on its own (the pool workers are unref'd).
// Children, because the backend is chosen once per process and vitest's forks run MOE_THREADS=1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { threadedWorkerSource, wantedThreads } from '../../src-main/engine/tensor/wasm-threads';

interface ChildResult {
  threads: number;
  reportThreads: number;
  probe: string;
  product: number[];
  logits: number[];
}

const root = mkdtempSync(path.join(tmpdir(), 'wasm-threads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runChild(threads: number): ChildResult {
  const out = path.join(root, `t${threads}.json`);
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.resolve('tests/unit/wasm-threads.child.ts'),
      out,
      path.join(root, `model-${threads}`),
    ],
    {
      env: { ...process.env, MOE_THREADS: String(threads) },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 120_000,
    },
  );
  return JSON.parse(readFileSync(out, 'utf8')) as ChildResult;
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('threaded wasm backend', () => {
  it('runs 2 threads and matches the single-threaded build', () => {
    const one = runChild(1);
    const two = runChild(2);
    expect(one.threads).toBe(1);
    expect(one.probe).toContain('simd build, 1 thread');
    expect(two.threads).toBe(2);
    expect(two.reportThreads).toBe(2);
    expect(two.probe).toContain('threaded-simd build, 2 threads');
    expect(two.product.length).toBe(384 * 288);
    expect(maxAbsDiff(one.product, two.product)).toBeLessThan(1e-5);
    expect(two.logits.length).toBe(96 * 272);
    expect(maxAbsDiff(one.logits, two.logits)).toBeLessThan(1e-5);
  });

  it('reads MOE_THREADS and rejects values outside 1..64', () => {
    expect(wantedThreads({ MOE_THREADS: '3' })).toBe(3);
    expect(wantedThreads({})).toBeGreaterThanOrEqual(1);
    expect(wantedThreads({})).toBeLessThanOrEqual(8);
    expect(() => wantedThreads({ MOE_THREADS: '0' })).toThrow(
      /MOE_THREADS is '0'; expected an integer from 1 to 64/,
    );
    expect(() => wantedThreads({ MOE_THREADS: 'two' })).toThrow(/MOE_THREADS/);
  });

  it('falls back with a reason when the installed package is not the pinned layout', () => {
    const root = path.dirname(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')));
    const ok = threadedWorkerSource(root);
    expect('source' in ok && ok.source.includes('tfjs-backend-wasm-threaded-simd.js')).toBe(true);
    expect('source' in ok && ok.source.includes('importScripts(e.data.urlOrBlob)')).toBe(false);
    const wrong = threadedWorkerSource(path.join(root, 'dist'));
    expect('reason' in wrong && wrong.reason).toMatch(/version/);
  });
});
