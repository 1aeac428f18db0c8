// Which file an engine worker starts from. From sources (CLI, vitest, `serve` in dev) it is
// worker-entry.mjs, which registers tsx and loads the TypeScript worker. An electron-vite build
// bundles the worker as out/main/engine-worker.js next to the main bundle; prefer it when present.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function resolveWorkerScript(fromUrl: string = import.meta.url): URL {
  const here = path.dirname(fileURLToPath(fromUrl));
  const bundled = path.join(here, 'engine-worker.js');
  if (path.basename(here) === 'main' && fs.existsSync(bundled)) return pathToFileURL(bundled);
  return new URL('./worker-entry.mjs', fromUrl);
}
