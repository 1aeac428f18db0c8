#!/usr/bin/env node
// `npm start [-- --home DIR] [-- --backend NAME]`: the desktop app when the Electron binary is
// installed (better-sqlite3 for Electron's ABI, build, then launch); otherwise browser mode
// (`moe-bench serve`, which builds the renderer when it is missing or stale) with the URL printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const args = process.argv.slice(2);

/** The Electron binary, or why there is none (the optional package's download can fail). */
function electronBinary() {
  let dir;
  try {
    dir = path.dirname(require.resolve('electron/package.json'));
  } catch {
    return { path: null, why: 'the optional `electron` package is not installed' };
  }
  const pathTxt = path.join(dir, 'path.txt');
  if (!existsSync(pathTxt))
    return { path: null, why: 'the Electron binary was not downloaded (no path.txt)' };
  const bin = path.join(dir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(bin)
    ? { path: bin, why: '' }
    : { path: null, why: `the Electron binary is missing at ${bin}` };
}

function optionValue(flag) {
  const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice(flag.length + 1) : args[i + 1];
}

/** Runs a child with our stdio; Ctrl+C reaches it through the terminal's process group. */
function runChild(cmd, argv, env = process.env) {
  const child = spawn(cmd, argv, { cwd: root, stdio: 'inherit', env });
  const forward = (sig) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
}

const electron = electronBinary();
const home = optionValue('--home');
const env = home ? { ...process.env, MOE_WORKBENCH_HOME: path.resolve(home) } : process.env;

if (electron.path) {
  // Electron's main process needs better-sqlite3 built for its ABI; the CLI keeps the Node build.
  const { ensureElectronSqlite } = await import('./electron-sqlite.mjs');
  try {
    ensureElectronSqlite();
  } catch (e) {
    console.error(`npm start: ${e instanceof Error ? e.message : String(e)}`);
    console.error(
      "hint: retry 'npm run rebuild:electron' with internet access (or a C++ toolchain and Python)",
    );
    process.exit(1);
  }
  console.log('Building the desktop app (electron-vite)…');
  const viteBin = path.join(
    path.dirname(require.resolve('electron-vite/package.json')),
    'bin',
    'electron-vite.js',
  );
  const built = spawnSync(process.execPath, [viteBin, 'build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
  runChild(electron.path, [root, ...args], env);
} else {
  console.log(`Electron is not available (${electron.why}): starting browser mode instead.`);
  console.log('Open the URL below in a browser; stop with Ctrl+C.\n');
  const globals = [];
  const serveArgs = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const takesValue = !a.includes('=') && ['--home', '--backend', '--port', '--host'].includes(a);
    const pair = takesValue ? [a, args[++i]] : [a];
    (a.startsWith('--home') || a.startsWith('--backend') ? globals : serveArgs).push(...pair);
  }
  runChild(
    process.execPath,
    [path.join(root, 'bin', 'moe-bench.mjs'), ...globals, 'serve', '--first-run-demo', ...serveArgs],
    env,
  );
}
