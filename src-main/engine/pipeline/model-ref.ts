// A pipeline's `model`: a Hugging Face folder path, or a built-in model name resolved under the
// app's resources/models (MOE_MODELS_DIR first when set).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors';

function modelDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.MOE_MODELS_DIR)
    dirs.push(...process.env.MOE_MODELS_DIR.split(path.delimiter).filter(Boolean));
  const resourcesPath = (process as { resourcesPath?: string }).resourcesPath;
  if (resourcesPath) dirs.push(path.join(resourcesPath, 'models'));
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src-main'))) {
      dirs.push(path.join(dir, 'resources', 'models'));
      break;
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dirs;
}

export function resolveModelDir(spec: string, baseDir = process.cwd()): string {
  const direct = path.resolve(baseDir, spec);
  if (fs.existsSync(path.join(direct, 'config.json'))) return direct;
  if (!spec.includes('/') && !spec.includes(path.sep)) {
    for (const d of modelDirs()) {
      const p = path.join(d, spec);
      if (fs.existsSync(path.join(p, 'config.json'))) return p;
    }
  }
  throw new EngineError(`model '${spec}' is neither a model folder (with config.json) nor a built-in model`, {
    field: 'model',
    hint: `built-in models live in ${modelDirs().join(', ')}`,
  });
}
