// One unit system in what the CLI and the app print (issue 16): byte sizes go through
// contract/units.ts (binary units, never "MB"), parameter counts through formatCount. A static check
// over the CLI, app, store, server and renderer sources for ad-hoc conversions, and the output of
// `moe-bench plan`, which printed "2.816 M params" and no weight bytes although its help promised them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli';
import { formatBytes, formatCount } from '../../src-main/contract/units';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { resolveModelDir } from '../../src-main/engine/pipeline/model-ref';
import { planPipeline } from '../../src-main/engine/pipeline/plan';
import { tempDir } from './io-helpers';

const ROOT = path.resolve(__dirname, '../..');
const SOURCES = [
  'src-main/cli',
  'src-main/cli.ts',
  'src-main/app',
  'src-main/store',
  'src-main/server',
  'src-main/ipc',
  'src-main/shell',
  'src-renderer/src',
  'src-main/engine/jobs/work-folder.ts',
];

function files(p: string): string[] {
  const abs = path.join(ROOT, p);
  if (fs.statSync(abs).isFile()) return [abs];
  return fs
    .readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(abs, f))
    .filter((f) => /\.(ts|tsx)$/.test(f));
}

describe('byte and count units', () => {
  it('no ad-hoc byte conversion or decimal byte unit in printed text', () => {
    const adHoc = /\/\s*2 \*\* (10|20|30)|\/\s*1024\b|\d\s*MB\b|\bMB\b['`]|\bGB\b/;
    const hits = SOURCES.flatMap(files).flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${path.relative(ROOT, f)}:${i + 1}` }))
        .filter(({ line }) => !/^\s*(\/\/|\*|\/\*)/.test(line) && adHoc.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`),
    );
    expect(hits).toEqual([]);
  });

  it('moe-bench plan prints params with formatCount and weight bytes with formatBytes', async () => {
    const dir = tempDir('cli-units-');
    const file = path.join(dir, 'p.json');
    const config = {
      version: 2,
      name: 'p',
      model: 'tiny-mixtral',
      target: { ratio: 0.2 },
      steps: [{ method: 'svd' }],
    };
    fs.writeFileSync(file, JSON.stringify(config));
    let stdout = '';
    const code = await main(['node', 'moe-bench', 'plan', file, '--home', path.join(dir, 'home')], {
      stdout: (s) => {
        stdout += s;
      },
      stderr: () => {},
    });
    expect(code).toBe(0);
    const plan = planPipeline(parsePipelineConfig(config), resolveModelDir('tiny-mixtral', dir));
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `tiny-mixtral (${plan.architecture}): ${formatCount(plan.paramsBefore)} params, ${formatBytes(plan.weightBytesBefore)} of weights`,
    );
    expect(lines[1]).toContain(
      `→ ${formatCount(plan.steps[0]!.paramsAfter)} params, ${formatBytes(plan.steps[0]!.weightBytesAfter)}, ratio`,
    );
    expect(lines[2]).toMatch(
      new RegExp(
        `, ${formatCount(plan.paramsAfter)} params, ${formatBytes(plan.weightBytesAfter).replace('.', '\\.')} of weights$`,
      ),
    );
    expect(stdout).toMatch(/\d\.\d MiB/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
