// `npm ci` must work from the committed lock on the build machines, whose registry mirror lacks
// some platform builds: every optional platform package must have a lock entry (see the script).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');

test('package-lock.json lists every optional platform package (npm ci stays valid)', () => {
  let output = '';
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts', 'lockfile-platforms.mjs'), '--check'], {
      encoding: 'utf8',
    });
  } catch (e) {
    output = String((e as { stderr?: string }).stderr ?? e);
  }
  expect(output).toBe('');
});
