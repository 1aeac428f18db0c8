// Whether an Electron binary is installed. `electron` is an optionalDependency whose install
// downloads the binary; the package's path.txt names it once the download succeeded.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface ElectronBinary {
  present: boolean;
  path: string | null;
  detail: string;
}

export function findElectronBinary(): ElectronBinary {
  const require = createRequire(import.meta.url);
  let pkgDir: string;
  try {
    pkgDir = path.dirname(require.resolve('electron'));
  } catch {
    return {
      present: false,
      path: null,
      detail: 'electron package not installed (optional; its binary download needs internet)',
    };
  }
  const pathTxt = path.join(pkgDir, 'path.txt');
  if (!fs.existsSync(pathTxt)) {
    return {
      present: false,
      path: null,
      detail: `electron package at ${pkgDir} has no downloaded binary (path.txt missing)`,
    };
  }
  const binary = path.join(pkgDir, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  return fs.existsSync(binary)
    ? { present: true, path: binary, detail: 'electron binary found' }
    : { present: false, path: binary, detail: `electron binary missing at ${binary}` };
}
