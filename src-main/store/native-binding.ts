// Which better-sqlite3 native addon to load. `npm install` builds (or downloads) it for Node's ABI,
// which the CLI and `serve` use as is. Electron's main process has its own ABI, so it loads a second
// copy built for its exact Electron version (`npm run rebuild:electron`, also run by `npm start`),
// kept apart under out/native/ so the Node copy in node_modules stays untouched.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NATIVE_DIR = path.join('out', 'native');

export interface BindingTarget {
  electronVersion: string;
  platform: NodeJS.Platform;
  arch: string;
  /** better-sqlite3's version: a copy built for another version of its JS half is not reused */
  sqliteVersion: string;
}

/** `<root>/out/native/electron-v<ver>-<platform>-<arch>/better_sqlite3-<version>.node` */
export function electronBindingPath(root: string, t: BindingTarget): string {
  return path.join(
    root,
    NATIVE_DIR,
    `electron-v${t.electronVersion}-${t.platform}-${t.arch}`,
    `better_sqlite3-${t.sqliteVersion}.node`,
  );
}

/** The folder holding package.json above `fromUrl` (sources: src-main/store; bundle: out/main/…). */
export function packageRoot(fromUrl: string = import.meta.url): string | null {
  let dir = path.dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function betterSqliteVersion(root: string): string {
  const require = createRequire(path.join(root, 'package.json'));
  return (require('better-sqlite3/package.json') as { version: string }).version;
}

export interface BindingChoice {
  /** path for better-sqlite3's `nativeBinding` option; undefined: its default (Node's build) */
  nativeBinding: string | undefined;
  /** the Electron copy that was looked for, when running under Electron */
  expected: string | null;
}

/**
 * Under plain Node: the default addon. Under Electron: the Electron-ABI copy when it exists; when it
 * does not, the default too (a packaged app whose node_modules were rebuilt for Electron), and a
 * failure to load then names `expected` and the command that builds it.
 */
export function chooseSqliteBinding(
  opts: {
    versions?: NodeJS.ProcessVersions;
    root?: string | null;
    platform?: NodeJS.Platform;
    arch?: string;
    exists?: (file: string) => boolean;
  } = {},
): BindingChoice {
  const electronVersion = (opts.versions ?? process.versions).electron;
  if (!electronVersion) return { nativeBinding: undefined, expected: null };
  const root = opts.root === undefined ? packageRoot() : opts.root;
  if (!root) return { nativeBinding: undefined, expected: null };
  const expected = electronBindingPath(root, {
    electronVersion,
    platform: opts.platform ?? process.platform,
    arch: opts.arch ?? process.arch,
    sqliteVersion: betterSqliteVersion(root),
  });
  const exists = opts.exists ?? fs.existsSync;
  return { nativeBinding: exists(expected) ? expected : undefined, expected };
}

/**
 * The addon itself failed to load (built for another ABI, or not a loadable library), as opposed to
 * the store file failing to open: Node's and dlopen's messages name the `.node` file.
 */
export function isAddonLoadFailure(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /\.node['":]|NODE_MODULE_VERSION|did not self-register/.test(msg);
}
