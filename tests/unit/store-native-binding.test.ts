// Which better-sqlite3 addon the store loads: Node's default build under Node (the CLI), the
// Electron-ABI copy under out/native/ under Electron, and a clear error when the ABI does not match.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError } from '../../src-main/store/index';
import {
  betterSqliteVersion,
  chooseSqliteBinding,
  electronBindingPath,
  isAddonLoadFailure,
  packageRoot,
} from '../../src-main/store/native-binding';

const root = path.resolve(import.meta.dirname, '../..');
const sqliteVersion = betterSqliteVersion(root);
const nodeVersions = { ...process.versions };
const electronVersions = { ...process.versions, electron: '45.4.1' } as NodeJS.ProcessVersions;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-binding-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('better-sqlite3 binding choice', () => {
  it('finds the package root from the sources and reads the installed better-sqlite3 version', () => {
    expect(packageRoot()).toBe(root);
    const pkg = createRequire(path.join(root, 'package.json'))('better-sqlite3/package.json');
    expect(sqliteVersion).toBe(pkg.version);
  });

  it('plain Node (this process): the default addon, nothing looked for', () => {
    expect(process.versions.electron).toBeUndefined();
    expect(chooseSqliteBinding()).toEqual({ nativeBinding: undefined, expected: null });
    expect(chooseSqliteBinding({ versions: nodeVersions, exists: () => true })).toEqual({
      nativeBinding: undefined,
      expected: null,
    });
  });

  it('Electron: the per-version, per-platform copy under out/native when it exists', () => {
    const expected = path.join(
      root,
      'out',
      'native',
      'electron-v45.4.1-linux-x64',
      `better_sqlite3-${sqliteVersion}.node`,
    );
    expect(
      electronBindingPath(root, { electronVersion: '45.4.1', platform: 'linux', arch: 'x64', sqliteVersion }),
    ).toBe(expected);
    const asked: string[] = [];
    const found = chooseSqliteBinding({
      versions: electronVersions,
      root,
      platform: 'linux',
      arch: 'x64',
      exists: (f) => asked.push(f) > 0,
    });
    expect(found).toEqual({ nativeBinding: expected, expected });
    expect(asked).toEqual([expected]);
    const missing = chooseSqliteBinding({
      versions: electronVersions,
      root,
      platform: 'linux',
      arch: 'x64',
      exists: () => false,
    });
    expect(missing).toEqual({ nativeBinding: undefined, expected });
  });

  it('`npm run rebuild:electron` and the store agree on the path; an existing copy is not rebuilt', () => {
    const version = `0.0.${process.pid}-test`;
    const target = electronBindingPath(root, {
      electronVersion: version,
      platform: process.platform,
      arch: process.arch,
      sqliteVersion,
    });
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, 'stands in for the Electron build');
    try {
      // a child process: the script registers tsx, which is not for this vitest process
      const code = `const m = await import(${JSON.stringify(path.join(root, 'scripts', 'electron-sqlite.mjs'))});
        console.log(m.ensureElectronSqlite({ electronVersion: ${JSON.stringify(version)}, log: (l) => { throw new Error('tried to build: ' + l); } }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(target);
      const choice = chooseSqliteBinding({ versions: { ...process.versions, electron: version } });
      expect(choice).toEqual({ nativeBinding: target, expected: target });
    } finally {
      fs.rmSync(path.dirname(target), { recursive: true, force: true });
    }
  });

  it('opens the store through an explicit nativeBinding path (the Node build here)', () => {
    const nodeAddon = path.join(
      path.dirname(createRequire(path.join(root, 'package.json')).resolve('better-sqlite3/package.json')),
      'build',
      'Release',
      'better_sqlite3.node',
    );
    const s = openStore(path.join(dir, 'a.sqlite'), {
      binding: { nativeBinding: nodeAddon, expected: nodeAddon },
    });
    expect(s.sqliteVersion()).toMatch(/^3\.\d+\.\d+$/);
    s.close();
  });

  it('an addon for another ABI fails with a StoreError naming the copy to build', () => {
    const fake = path.join(dir, 'better_sqlite3-0.0.0.node');
    fs.writeFileSync(fake, 'not an ELF or PE file');
    const open = () =>
      openStore(path.join(dir, 'b.sqlite'), {
        binding: { nativeBinding: fake, expected: '/x/out/native/e.node' },
      });
    expect(open).toThrow(StoreError);
    expect(open).toThrow(/native addon cannot be loaded by this runtime/);
    try {
      open();
    } catch (e) {
      expect((e as StoreError).hint).toBe("run 'npm run rebuild:electron' to build /x/out/native/e.node");
    }
    const abi = "The module '/a/better_sqlite3.node' was compiled against a different Node.js version";
    expect(isAddonLoadFailure(new Error(abi))).toBe(true);
    expect(isAddonLoadFailure(new Error('unable to open database file'))).toBe(false);
  });
});
