#!/usr/bin/env node
// The npm registry mirror on the build machines lacks some platform-specific builds (e.g. biome's
// and rollup's darwin/windows/musl packages), so `npm install` there leaves them out of
// package-lock.json and `npm ci` then rejects the lock as out of sync. This fills in each missing
// optional platform package with its os/cpu/libc constraints: `npm ci` skips it on other platforms
// without fetching it, and installs it on a machine that matches (from the public registry).
// Run after any `npm install` that changes the lock: `npm run lock:platforms` (`--check` only reports).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lockPath = path.join(root, 'package-lock.json');
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const OS = [
  'android',
  'darwin',
  'freebsd',
  'linux',
  'openbsd',
  'netbsd',
  'sunos',
  'aix',
  'win32',
  'openharmony',
  'cygwin',
];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'loong64', 'ppc64', 'riscv64', 's390x', 'mips64el', 'wasm32'];

/** os/cpu/libc from a platform package name such as `@rollup/rollup-linux-arm64-musl`. */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.find((p) => CPU.includes(p) || p === 'arm64ec' || p === 'armv7' || p === 'gnueabihf');
  if (!os || !cpu) return null;
  const c = cpu === 'arm64ec' ? 'arm64' : cpu === 'armv7' || cpu === 'gnueabihf' ? 'arm' : cpu;
  const out = { os: [os], cpu: [c] };
  if (os === 'linux') out.libc = [parts.some((p) => p.startsWith('musl')) ? 'musl' : 'glibc'];
  return out;
}

const missing = [];
for (const [key, entry] of Object.entries(lock.packages)) {
  if (!key || !entry.optionalDependencies) continue;
  for (const [dep, range] of Object.entries(entry.optionalDependencies)) {
    const nested = `${key}/node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (lock.packages[nested] || lock.packages[top]) continue;
    const platform = platformOf(dep);
    if (!platform) continue; // not a platform package: leave it to npm
    missing.push(top);
    lock.packages[top] = {
      version: range.replace(/^[\^~=]/, ''),
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
      ...platform,
    };
  }
}
if (process.argv.includes('--check')) {
  if (missing.length) {
    console.error(
      `package-lock.json lacks ${missing.length} optional platform packages (npm ci would fail): run npm run lock:platforms`,
    );
    process.exit(1);
  }
  process.exit(0);
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${missing.length} optional platform entries to package-lock.json`);
