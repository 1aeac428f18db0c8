// The process's whitening thread (whitening-worker.ts), started on first use. The expert loop hands
// it each expert's Grams and factorises the previous expert meanwhile: whitening is single-threaded
// f64 work, the factorisation mostly tfjs products, so the two fill both cores. Results are the
// same bits as whiteningScale in the calling thread (same code, same kernels). The thread holds the
// event loop only while a request is pending, so a finished command still exits.
import { Worker } from 'node:worker_threads';
import type { InputStatistics } from '../../calibration/gram';
import { EngineError } from '../../errors';
import { wantedThreads } from '../../tensor/thread-count';
import { workerScript } from '../../worker-script';
import { type Scale, type WhiteningOptions, whiteningScale } from './scaling';
import type { WhiteningReply, WhiteningRequest } from './whitening-protocol';

const FILE = 'engine/methods/lowrank/whitening-thread';

export interface Whitener {
  /** whiteningScale(stats, options) on the whitening thread; the Gram's buffer moves there (the caller's array is emptied) */
  whiten(stats: Pick<InputStatistics, 'dim' | 'tokens' | 'gram'>, options: WhiteningOptions): Promise<Scale>;
}

interface Pending {
  resolve(s: Scale): void;
  reject(e: Error): void;
}

// a message's "file: field: " prefix, which EngineError adds again
function unprefixed(message: string, file?: string, field?: string): string {
  const where = [file, field].filter(Boolean).join(': ');
  return where && message.startsWith(`${where}: `) ? message.slice(where.length + 2) : message;
}

class WhiteningThread implements Whitener {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  whiten(stats: Pick<InputStatistics, 'dim' | 'tokens' | 'gram'>, options: WhiteningOptions): Promise<Scale> {
    const { dim, tokens, gram } = stats;
    // what needs no factorisation, or is malformed, is answered here with the same rules and errors
    if (tokens === 0 || gram.rows !== dim || gram.cols !== dim || !(gram.data instanceof Float64Array))
      return Promise.resolve().then(() => whiteningScale(stats, options));
    const data = gram.data;
    const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    const own = whole && !(data.buffer instanceof SharedArrayBuffer) ? data : data.slice();
    const w = this.start();
    const id = this.nextId++;
    return new Promise<Scale>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) w.ref();
      const req: WhiteningRequest = { id, dim, tokens, gram: own, options };
      w.postMessage(req, [own.buffer as ArrayBuffer]);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(
      workerScript(import.meta.url, './whitening-worker-entry.mjs', 'whitening-worker.js'),
    );
    w.unref();
    w.on('message', (r: WhiteningReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) w.unref();
      if (r.ok) p.resolve(r.scale);
      else {
        const { message, file, field, hint } = r.error;
        p.reject(
          file || field
            ? new EngineError(unprefixed(message, file, field), {
                ...(file ? { file } : {}),
                ...(field ? { field } : {}),
                ...(hint ? { hint } : {}),
              })
            : new Error(message),
        );
      }
    });
    w.on('error', (e) => this.stopped(w, e.message));
    w.on('exit', (code) => this.stopped(w, `it exited with code ${code}`));
    this.worker = w;
    return w;
  }

  // every request in flight fails with the reason; the next one starts a fresh thread
  private stopped(w: Worker, why: string): void {
    if (this.worker !== w) return;
    this.worker = null;
    const failed = [...this.pending.values()];
    this.pending.clear();
    for (const p of failed)
      p.reject(
        new EngineError(`the whitening thread stopped: ${why}`, {
          file: FILE,
          field: 'worker',
          hint: 'run again; MOE_THREADS=1 whitens in the calling thread instead',
        }),
      );
  }
}

let shared: WhiteningThread | null = null;

/** The shared whitening thread, or null when one core is all there is to use (MOE_THREADS=1). */
export function whiteningThread(env: NodeJS.ProcessEnv = process.env): Whitener | null {
  if (wantedThreads(env) < 2) return null;
  shared ??= new WhiteningThread();
  return shared;
}
