// Which file a worker thread starts from. From sources (CLI, vitest, `serve` in dev) the calling
// module is itself TypeScript and the worker is a small .mjs bootstrap next to it that registers tsx
// and loads the TypeScript worker. In an electron-vite build every worker is bundled as
// out/main/<name>.js, next to the main bundle or one folder up when the caller landed in
// out/main/chunks/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function workerScript(fromUrl: string, sourceEntry: string, bundledFile: string): URL {
  if (/\.[cm]?ts$/.test(fromUrl)) return new URL(sourceEntry, fromUrl);
  const here = path.dirname(fileURLToPath(fromUrl));
  for (const dir of [here, path.dirname(here)]) {
    const bundled = path.join(dir, bundledFile);
    if (fs.existsSync(bundled)) return pathToFileURL(bundled);
  }
  // missing from a broken build: the worker then fails with an error naming the file it expected
  return pathToFileURL(path.join(here, bundledFile));
}
