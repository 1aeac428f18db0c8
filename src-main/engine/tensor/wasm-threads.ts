// The threaded-SIMD build of tfjs-backend-wasm in Node. tfjs 4.22 switches threads off in Node and
// its pthread bootstrap cannot work there as shipped, so three things are bridged, each only for
// the duration of `setBackend`:
//  - WASM_HAS_MULTITHREAD_SUPPORT is forced on (tfjs hardcodes false when IS_NODE);
//  - emscripten is handed the pthread worker as a Blob URL, which Node's worker_threads cannot
//    load: the worker source is written to a temp file (the factory script it imports replaced by
//    the standalone threaded factory on disk) and URL.createObjectURL returns that path;
//  - the C side caps XNNPACK's pool at emscripten_num_logical_cores()/2 = os.cpus().length/2, so
//    os.cpus reports twice the wanted count while the pool is created.
// Everything depends on the layout of that exact release, so it is pinned: any other version, or a
// worker source without the expected import lines, falls back to the single-threaded SIMD build
// with the reason in the backend probe.
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';

export { DEFAULT_MAX_THREADS, wantedThreads } from './thread-count';

const WORKER_IMPORTS = ['importScripts(e.data.urlOrBlob)', 'importScripts(objectUrl)'];

type WasmModule = typeof import('@tensorflow/tfjs-backend-wasm');

export interface WasmInit {
  ok: boolean;
  /** XNNPACK threads the backend actually runs (1 = the plain SIMD build) */
  threads: number;
  build: 'threaded-simd' | 'simd';
  /** why the threaded build was not used when more than one thread was asked for */
  fallback?: string;
}

const require = createRequire(import.meta.url);

/** The only tfjs-backend-wasm release whose worker layout the bridge above was written against. */
export const PINNED_WASM_VERSION = '4.22.0';
/**
 * The pthread worker source rewritten to import the threaded factory from disk, or why the
 * installed package cannot be bridged.
 */
export function threadedWorkerSource(wasmRoot: string): { source: string } | { reason: string } {
  let version: string;
  try {
    version = (require(path.join(wasmRoot, 'package.json')) as { version: string }).version;
  } catch (e) {
    return { reason: `cannot read the tfjs-backend-wasm version: ${(e as Error).message}` };
  }
  if (version !== PINNED_WASM_VERSION)
    return {
      reason: `tfjs-backend-wasm ${version} is not the pinned ${PINNED_WASM_VERSION} whose worker layout is known`,
    };
  const out = path.join(wasmRoot, 'wasm-out');
  const factory = path.join(out, 'tfjs-backend-wasm-threaded-simd.js');
  let contents: unknown;
  try {
    contents = (
      require(path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents?: unknown }
    ).wasmWorkerContents;
  } catch (e) {
    return { reason: `cannot load the threaded worker source: ${(e as Error).message}` };
  }
  if (typeof contents !== 'string')
    return { reason: 'the threaded worker module exports no wasmWorkerContents' };
  const missing = WORKER_IMPORTS.filter((s) => !contents.includes(s));
  if (missing.length > 0) return { reason: `the worker layout changed (no ${missing.join(', ')})` };
  // tfjs escapes newlines before making its Blob (string literals inside the source hold them)
  let source = contents.replace(/\n/g, '\\n');
  for (const s of WORKER_IMPORTS) source = source.replace(s, `importScripts(${JSON.stringify(factory)})`);
  return { source };
}

const WORKER_FILE = /^moe-tfjs-wasm-worker-(\d+)-\d+-[a-z0-9]+\.cjs$/;
let workerFile: string | null = null;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Worker files of processes that were killed (no exit handler ran) are removed by the next start. */
function removeStaleWorkerFiles(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = WORKER_FILE.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      unlinkSync(path.join(dir, name));
    } catch {
      // another process removed it first
    }
  }
}

function writeWorkerFile(source: string): string {
  if (workerFile) return workerFile;
  removeStaleWorkerFiles(os.tmpdir());
  const file = path.join(
    os.tmpdir(),
    `moe-tfjs-wasm-worker-${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}.cjs`,
  );
  writeFileSync(file, source);
  workerFile = file;
  // emscripten may start a pthread worker at any time, so the file lives as long as the process
  process.once('exit', () => {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  });
  return file;
}

/**
 * XNNPACK's pool threads run for the life of the backend, and emscripten ref()s a Node worker
 * while its pthread runs: without this a finished CLI command would never exit.
 */
function unrefPoolWorkers(): void {
  const backend = tf.backend() as unknown as {
    wasm?: { PThread?: { runningWorkers?: { unref?: () => void }[] } };
  };
  for (const w of backend.wasm?.PThread?.runningWorkers ?? []) w.unref?.();
}

/** tf.setBackend('wasm') with the redirections above in place, each undone afterwards. */
async function setBackendThreaded(wasm: WasmModule, threads: number, file: string): Promise<boolean> {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = () => file;
  os.cpus = () => {
    const one = cpus()[0]!;
    return Array.from({ length: 2 * threads }, () => one);
  };
  try {
    return await tf.setBackend('wasm');
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
}

/**
 * Initialise the wasm backend with `threads` XNNPACK threads (1: the plain SIMD build). A threaded
 * start that cannot be bridged or fails falls back to the SIMD build, saying why.
 */
export async function initWasmBackend(
  wasm: WasmModule,
  wasmRoot: string,
  threads: number,
): Promise<WasmInit> {
  wasm.setWasmPaths(`${path.join(wasmRoot, 'dist')}${path.sep}`);
  let fallback: string | undefined;
  if (threads > 1) {
    const w = threadedWorkerSource(wasmRoot);
    if ('reason' in w) fallback = w.reason;
    else {
      try {
        if (await setBackendThreaded(wasm, threads, writeWorkerFile(w.source))) {
          await tf.ready();
          unrefPoolWorkers();
          return { ok: true, threads: wasm.getThreadsCount(), build: 'threaded-simd' };
        }
        fallback = 'the threaded build failed to initialise';
      } catch (e) {
        fallback = `the threaded build failed: ${(e as Error).message.split('\n')[0]!.slice(0, 160)}`;
      }
    }
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const ok = await tf.setBackend('wasm');
  const init: WasmInit = { ok, threads: 1, build: 'simd' };
  if (fallback) init.fallback = fallback;
  return init;
}

/** The probe's line for a started wasm backend: build and threads (and why not more). */
export function describeWasm(init: WasmInit, wanted: number): string {
  const base = `${init.build} build, ${init.threads} thread${init.threads === 1 ? '' : 's'}`;
  if (init.fallback) return `${base} (${wanted} asked; ${init.fallback})`;
  return init.threads === wanted ? base : `${base} (${wanted} asked)`;
}
