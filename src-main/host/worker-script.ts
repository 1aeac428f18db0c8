// Which file an engine worker starts from. From sources (CLI, vitest, `serve` in dev) this module
// is itself TypeScript and the worker is worker-entry.mjs, which registers tsx and loads the
// TypeScript worker. In an electron-vite build the worker is bundled as out/main/engine-worker.js,
// next to the main bundle or one folder up when this code landed in out/main/chunks/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function resolveWorkerScript(fromUrl: string = import.meta.url): URL {
  if (/\.[cm]?ts$/.test(fromUrl)) return new URL('./worker-entry.mjs', fromUrl);
  const here = path.dirname(fileURLToPath(fromUrl));
  for (const dir of [here, path.dirname(here)]) {
    const bundled = path.join(dir, 'engine-worker.js');
    if (fs.existsSync(bundled)) return pathToFileURL(bundled);
  }
  // missing from a broken build: jobs then fail with an error naming the file they expected
  return pathToFileURL(path.join(here, 'engine-worker.js'));
}
