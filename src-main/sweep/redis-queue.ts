// What the coordinator and the workers agree on over Redis: the BullMQ queue, a job's data and
// result, job ids (one per sweep point, so adding a point twice is a no-op) and the cancel key.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RunBundle } from '../store/repos/sweeps';

export const SWEEP_QUEUE = 'moe-workbench-sweeps';
export const DEFAULT_PREFIX = 'moe';

export interface PointJobData {
  /** identifies the sweep across stores: several coordinators may share one Redis */
  token: string;
  sweepId: number;
  hash: string;
  label: string;
  config: Record<string, unknown>;
}

export interface PointJobResult {
  worker: string;
  bundle: Omit<RunBundle, 'modelId'>;
}

export function sweepToken(storePath: string, sweepId: number, createdAt: string): string {
  return createHash('sha256').update(`${storePath}\0${sweepId}\0${createdAt}`).digest('hex').slice(0, 12);
}

export const pointJobId = (token: string, hash: string) => `${token}-${hash.slice(0, 40)}`;
export const cancelKey = (prefix: string, token: string) => `${prefix}:${SWEEP_QUEUE}:cancel:${token}`;

/** Connection options for a redis:// URL (BullMQ needs maxRetriesPerRequest null on blocking clients). */
export function connectionOf(url: string): {
  url: string;
  maxRetriesPerRequest: null;
  enableOfflineQueue: boolean;
} {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--redis: '${url}' is not a URL; expected redis://HOST:PORT`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`--redis: '${url}' is not a redis:// or rediss:// URL`);
  return { url, maxRetriesPerRequest: null, enableOfflineQueue: true };
}

/** Resolves when `ready` does, or rejects with a clear message after `ms`. */
export async function within<T>(ready: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(what)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A plain client for the cancel key (BullMQ's own connections stay BullMQ's). */
export function keyClient(url: string): Redis {
  const r = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  r.on('error', () => {}); // reconnects are ioredis's
  return r;
}
