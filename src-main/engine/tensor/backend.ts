// Compute backend selection: tfjs-node-gpu, then tfjs-node, then wasm, then plain CPU.
// The two native backends are optionalDependencies whose install downloads libtensorflow; where
// that failed they are simply absent and we fall through, saying why.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendName, BackendProbe } from '../../contract/index';
import { BackendUnavailableError, backendHint } from './backend-error';
import { describeWasm, initWasmBackend, wantedThreads } from './wasm-threads';

export { tf };

export const BACKEND_ORDER: readonly BackendName[] = ['node-gpu', 'node', 'wasm', 'cpu'];

export interface BackendReport {
  active: BackendName;
  probes: BackendProbe[];
  /** compute threads of the active backend (wasm: XNNPACK's pool; 1 elsewhere unless known) */
  threads: number;
}

const require = createRequire(import.meta.url);
let current: BackendReport | null = null;

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 200);
}

async function tryNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<string | null> {
  try {
    require.resolve(pkg);
  } catch {
    return `${pkg} is not installed (its libtensorflow download needs internet at install time)`;
  }
  try {
    require(pkg);
    const ok = await tf.setBackend('tensorflow');
    return ok ? null : `${pkg} loaded but the 'tensorflow' backend failed to initialise`;
  } catch (e) {
    return `${pkg} failed to load: ${errorText(e)}`;
  }
}

/** What the started backend says about itself (build and threads), appended to its probe. */
let startedDetail: { threads: number; detail: string } | null = null;
// A function, not the variable: TypeScript narrows the variable to null across the awaited attempt.
const started = () => startedDetail;

async function tryWasm(): Promise<string | null> {
  try {
    const wanted = wantedThreads();
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const root = path.dirname(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')));
    const init = await initWasmBackend(wasm, root, wanted);
    if (!init.ok) return 'wasm backend failed to initialise';
    startedDetail = { threads: init.threads, detail: describeWasm(init, wanted) };
    return null;
  } catch (e) {
    return `wasm backend failed: ${errorText(e)}`;
  }
}

async function tryCpu(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    const ok = await tf.setBackend('cpu');
    return ok ? null : 'cpu backend failed to initialise';
  } catch (e) {
    return `cpu backend failed: ${errorText(e)}`;
  }
}

const attempts: Record<BackendName, () => Promise<string | null>> = {
  'node-gpu': () => tryNative('@tensorflow/tfjs-node-gpu'),
  node: () => tryNative('@tensorflow/tfjs-node'),
  wasm: tryWasm,
  cpu: tryCpu,
};

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKEND_ORDER as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${source}: unknown backend '${value}'; expected one of ${BACKEND_ORDER.join(', ')}`);
}

/**
 * Initialise the best available backend, or exactly `force` (from --backend / MOE_BACKEND) if given.
 * Idempotent per process: the first call decides.
 */
export async function initBackend(opts: { force?: BackendName | undefined } = {}): Promise<BackendReport> {
  if (current && (!opts.force || opts.force === current.active)) return current;
  const envForce = process.env.MOE_BACKEND
    ? parseBackendName(process.env.MOE_BACKEND, 'MOE_BACKEND')
    : undefined;
  const force = opts.force ?? envForce;
  const probes: BackendProbe[] = [];
  let active: BackendName | null = null;
  startedDetail = null;
  for (const name of BACKEND_ORDER) {
    if (active) {
      probes.push({ name, available: false, reason: `not tried: '${active}' was chosen first` });
      continue;
    }
    if (force && name !== force) {
      probes.push({ name, available: false, reason: `skipped: backend forced to '${force}'` });
      continue;
    }
    const failure = await attempts[name]();
    if (failure === null) {
      active = name;
      const why = force ? 'forced' : 'first available in order';
      const detail = started()?.detail;
      probes.push({ name, available: true, reason: detail ? `${why}; ${detail}` : why });
    } else {
      probes.push({ name, available: false, reason: failure });
    }
  }
  if (!active) {
    const forced = force ? probes.find((p) => p.name === force) : undefined;
    const message = forced
      ? `forced backend '${force}' is unavailable: ${forced.reason}`
      : `no compute backend could be initialised (${probes.map((p) => `${p.name}: ${p.reason}`).join('; ')})`;
    throw new BackendUnavailableError(message, probes, backendHint(force));
  }
  await tf.ready();
  current = { active, probes, threads: started()?.threads ?? 1 };
  return current;
}

export function activeBackend(): BackendReport | null {
  return current;
}
