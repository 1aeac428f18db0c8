// Which file an engine worker starts from: worker-entry.mjs (tsx bootstrap of worker-main.ts) from
// sources, out/main/engine-worker.js in an electron-vite build.
import { workerScript } from '../engine/worker-script';

export function resolveWorkerScript(fromUrl: string = import.meta.url): URL {
  return workerScript(fromUrl, './worker-entry.mjs', 'engine-worker.js');
}
