// Every numeric flag of every command goes through the parsers of cli/arg-parsers.ts: an empty,
// blank or non-numeric value is a usage error (exit 2) naming the flag, the value and what is
// allowed, never read as 0 (`analyze --ratio ''` and `--seed ''` were). The flags are found by
// walking the commander program, so a numeric flag added later without a parser fails here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src-main/cli';
import * as parsers from '../../src-main/cli/arg-parsers';
import { buildProgram } from '../../src-main/cli/program';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-num-'));
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const PARSERS = new Set<unknown>(Object.values(parsers));
/** Value placeholders that stand for numbers in this CLI's help. */
const NUMERIC_PLACEHOLDER = /<(n|r|k|b|s|ms|list)>/;

interface Flag {
  command: string[];
  option: Option;
}

function walk(cmd: Command, trail: string[], out: Flag[]): Flag[] {
  for (const option of cmd.options as Option[]) out.push({ command: trail, option });
  for (const sub of cmd.commands) walk(sub, [...trail, sub.name()], out);
  return out;
}

const silent = { stdout: () => {}, stderr: () => {} };
const program = await buildProgram(
  { io: silent } as never,
  silent,
  ['node', 'moe-bench'], // no command named: every command registers
);
const flags = walk(program, [], []);
const numeric = flags.filter((f) => PARSERS.has(f.option.parseArg));

async function cli(args: string[]) {
  let stderr = '';
  const code = await main(['node', 'moe-bench', ...args, '--home', home], {
    stdout: () => {},
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, lines: stderr.trimEnd().split('\n') };
}

describe('numeric CLI flags', () => {
  it('every flag with a numeric placeholder has a parser from cli/arg-parsers', () => {
    const bare = flags
      .filter((f) => NUMERIC_PLACEHOLDER.test(f.option.flags) && !PARSERS.has(f.option.parseArg))
      .map((f) => `${f.command.join(' ')} ${f.option.flags}`);
    expect(bare).toEqual([]);
    // the walk found the flags of issue 17 and the commands it names
    const names = numeric.map((f) => `${f.command.join(' ')} ${f.option.long}`);
    for (const n of [
      'analyze --ratio',
      'analyze --seed',
      'compress --ratio',
      'compress --seed',
      'serve --port',
    ])
      expect(names).toContain(n);
    expect(numeric.length).toBeGreaterThan(25);
  });

  const cases = numeric.flatMap((f) =>
    ['', ' ', 'abc', '0x10', '1e999'].map(
      (value) => [`${f.command.join(' ')} ${f.option.long}`, value, f] as const,
    ),
  );
  it.each(cases)('%s %j is exit 2 naming the flag, the value and what is allowed', async (_, value, f) => {
    // the flag comes before any positional argument: commander parses it first either way
    const r = await cli([...f.command, f.option.long!, value]);
    expect(r.code).toBe(2);
    expect(r.lines).toHaveLength(2);
    expect(r.lines[0]).toContain(`moe-bench: option '${f.option.flags}' argument '${value}' is invalid.`);
    expect(r.lines[0]).toMatch(new RegExp(`expected (a|comma-separated) .+, got '${escapeRegExp(value)}'$`));
  });

  it.each([
    [
      'unitFraction',
      parsers.unitFraction,
      ['0', '0.4', '0.999', '4e-1'],
      ['1', '-0.1', '1.5', 'NaN', 'Infinity'],
    ],
    [
      'nonNegativeInt',
      parsers.nonNegativeInt,
      ['0', '3', '4294967295'],
      ['-1', '1.5', '1e3', '9007199254740993'],
    ],
    ['positiveInt', parsers.positiveInt, ['1', '2048'], ['0', '-3', '2.0']],
    ['positiveNumber', parsers.positiveNumber, ['0.5', '3'], ['0', '-1', 'Infinity']],
    ['portNumber', parsers.portNumber, ['0', '7321', '65535'], ['65536', '-1']],
    ['intList', parsers.intList, ['0', '0,2,3'], ['1,,2', '1,-2', '1;2']],
    ['positiveIntList', parsers.positiveIntList, ['256,512'], ['0,256', '256,']],
  ] as const)('%s keeps the values it allows and refuses the rest', (_, parse, good, bad) => {
    for (const v of good) expect(() => parse(v), v).not.toThrow();
    for (const v of bad) expect(() => parse(v), v).toThrow(/^expected /);
  });

  it('a valid ratio and seed reach the analysis params as numbers', async () => {
    const { analyzeParams } = await import('../../src-main/cli/commands/analyze');
    const p = analyzeParams(
      'sensitivity',
      {
        model: 'm',
        method: 'svd',
        ratio: parsers.unitFraction('0.25'),
        seed: parsers.nonNegativeInt('0'),
        dataDir: [],
      },
      undefined,
    );
    expect(p).toMatchObject({ ratio: 0.25, calibration: { seed: 0 } });
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
