#!/usr/bin/env node
// `npm run typecheck`: Electron's type declarations live in the optional `electron` package. Where
// it is installed, check everything (tsconfig.electron.json, a superset); where it is not (its
// binary download failed), check everything except the two files that import `electron`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

function electronTypes() {
  try {
    const file = path.join(path.dirname(require.resolve('electron/package.json')), 'electron.d.ts');
    return existsSync(file) ? file : null;
  } catch {
    return null;
  }
}

const types = electronTypes();
const project = types ? 'tsconfig.electron.json' : 'tsconfig.json';
if (!types) {
  console.warn(
    'typecheck: `electron` is not installed, so src-main/index.ts and src-preload/index.ts are not checked',
  );
}
const tsc = require.resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', project, '--noEmit'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
