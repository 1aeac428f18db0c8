#!/usr/bin/env node
// `npm run rebuild:electron [-- --force] [-- --electron-version X.Y.Z]`: builds better-sqlite3's
// native addon for Electron's ABI into out/native/ (see src-main/store/native-binding.ts), leaving
// the Node build in node_modules, which the CLI keeps using, untouched. `npm start` calls
// ensureElectronSqlite() before launching Electron. Works on a copy of the package in a temp folder:
// prebuild-install (a prebuilt download for that Electron version) first, else node-gyp against
// Electron's headers. Both need internet, once per Electron version.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const { betterSqliteVersion, electronBindingPath } = await import('../src-main/store/native-binding.ts');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

export function installedElectronVersion() {
  try {
    return require('electron/package.json').version;
  } catch {
    return null;
  }
}

// A `nodedir` npm setting (Node's own headers) would make node-gyp build for Node's ABI instead.
const buildEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_config_(nodedir|target|runtime|disturl|arch)$/i.test(k)),
);

function run(cmd, args, cwd, log) {
  log(`  $ ${[path.basename(cmd), ...args].join(' ')}`);
  // .cmd shims (npx on Windows) only start through a shell
  const shell = process.platform === 'win32' && cmd.endsWith('.cmd');
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: buildEnv, shell });
  return r.status === 0;
}

/** npm's own node-gyp (npm sets npm_config_node_gyp for scripts), else the one next to this node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(
      path.dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    path.join(
      path.dirname(process.execPath),
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ];
  const found = candidates.find((c) => c && fs.existsSync(c));
  return found
    ? [process.execPath, [found]]
    : [process.platform === 'win32' ? 'npx.cmd' : 'npx', ['--yes', 'node-gyp']];
}

/**
 * The Electron-ABI addon for `electronVersion`, built if missing (or with `force`); returns its path.
 * Throws with what was tried when neither a prebuilt binary nor a source build could be had.
 */
export function ensureElectronSqlite({
  electronVersion = installedElectronVersion(),
  platform = process.platform,
  arch = process.arch,
  force = false,
  log = (line) => console.log(line),
} = {}) {
  if (!electronVersion) throw new Error('the `electron` package is not installed; pass --electron-version');
  const target = electronBindingPath(root, {
    electronVersion,
    platform,
    arch,
    sqliteVersion: betterSqliteVersion(root),
  });
  if (!force && fs.existsSync(target)) return target;
  log(
    `Building better-sqlite3 for Electron ${electronVersion} (${platform}-${arch}) → ${path.relative(root, target)}`,
  );
  const pkgDir = path.dirname(require.resolve('better-sqlite3/package.json'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-sqlite-electron-'));
  const work = path.join(tmp, 'better-sqlite3');
  try {
    // the copy keeps the sources and binding.gyp, not the Node build
    fs.cpSync(pkgDir, work, {
      recursive: true,
      filter: (src) => !/^[\\/](build|node_modules)$/.test(src.slice(pkgDir.length)),
    });
    const built = path.join(work, 'build', 'Release', 'better_sqlite3.node');
    const prebuild = createRequire(path.join(pkgDir, 'package.json')).resolve('prebuild-install/bin.js');
    const ok =
      run(
        process.execPath,
        [
          prebuild,
          '--runtime',
          'electron',
          '--target',
          electronVersion,
          '--arch',
          arch,
          '--platform',
          platform,
        ],
        work,
        log,
      ) && fs.existsSync(built);
    if (!ok) {
      log('  no prebuilt binary; compiling against the Electron headers (needs a C++ toolchain and Python)');
      const [cmd, pre] = nodeGyp();
      const compiled = run(
        cmd,
        [
          ...pre,
          'rebuild',
          '--release',
          `--target=${electronVersion}`,
          `--arch=${arch}`,
          '--dist-url=https://electronjs.org/headers',
          '--nodedir=',
        ],
        work,
        log,
      );
      if (!compiled || !fs.existsSync(built))
        throw new Error(
          `could not get better-sqlite3 for Electron ${electronVersion}: prebuild-install and node-gyp both failed (see above)`,
        );
    }
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const partial = `${target}.partial-${process.pid}`;
    fs.copyFileSync(built, partial);
    fs.renameSync(partial, target);
    log(`  done: ${path.relative(root, target)}`);
    return target;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--electron-version');
  try {
    const file = ensureElectronSqlite({
      force: args.includes('--force'),
      ...(at >= 0 ? { electronVersion: args[at + 1] } : {}),
    });
    console.log(file);
  } catch (e) {
    console.error(`rebuild:electron: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
