// Help texts cite the project's own docs, never "METHODS §…" (a document the repository does not
// contain) or a bare section number: the pipeline schema the editor shows, every method's params
// schema, the analysis and job params, and the CLI's help. A `docs/FILE.md: Section` citation
// names a file in docs/ and a heading (or a term) that file has.
import fs from 'node:fs';
import path from 'node:path';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { methodInfos } from '../../src-main/app/services/methods';
import { buildProgram } from '../../src-main/cli/program';
import { JOBS } from '../../src-main/engine/jobs/registry';
import { pipelineJsonSchema } from '../../src-main/engine/pipeline/config';
import { SweepSpec } from '../../src-main/sweep/sweep-spec';

const ROOT = path.resolve(__dirname, '../..');

/** every "description" string of a JSON schema */
function descriptions(schema: unknown, out: string[] = []): string[] {
  if (Array.isArray(schema)) for (const x of schema) descriptions(x, out);
  else if (schema && typeof schema === 'object')
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'description' && typeof v === 'string') out.push(v);
      else descriptions(v, out);
    }
  return out;
}

function cliTexts(cmd: Command, out: string[] = []): string[] {
  out.push(cmd.description());
  for (const o of cmd.options as Option[]) out.push(o.description);
  for (const a of cmd.registeredArguments) out.push(a.description);
  for (const sub of cmd.commands) cliTexts(sub, out);
  return out;
}

const silent = { stdout: () => {}, stderr: () => {} };
const texts: [string, string][] = [
  ...descriptions(pipelineJsonSchema()).map((t) => ['pipeline schema', t] as [string, string]),
  ...methodInfos().flatMap((m) =>
    descriptions(m.paramsSchema).map((t) => [`method ${m.id}`, t] as [string, string]),
  ),
  ...[...JOBS.keys()].flatMap((kind) =>
    descriptions(
      z.toJSONSchema(JOBS.get(kind)!.params as z.ZodType, { io: 'input', unrepresentable: 'any' }),
    ).map((t) => [`job ${kind}`, t] as [string, string]),
  ),
  ...descriptions(z.toJSONSchema(SweepSpec, { io: 'input', unrepresentable: 'any' })).map(
    (t) => ['sweep spec', t] as [string, string],
  ),
  ...cliTexts(await buildProgram({ io: silent } as never, silent, ['node', 'moe-bench'])).map(
    (t) => ['cli help', t] as [string, string],
  ),
];

describe('help texts', () => {
  it('were all collected (the schemas and the CLI each contribute)', () => {
    const from = new Set(texts.map(([w]) => w.split(' ')[0]));
    expect([...from].sort()).toEqual(['cli', 'job', 'method', 'pipeline', 'sweep']);
    expect(texts.length).toBeGreaterThan(200);
  });

  it('never cite METHODS or a bare § section', () => {
    const bad = texts.filter(([, t]) => /METHODS|§/.test(t)).map(([w, t]) => `${w}: ${t}`);
    expect(bad).toEqual([]);
  });

  it('cite docs that exist, and sections those docs have', () => {
    const refs = texts.flatMap(([w, t]) =>
      [...t.matchAll(/\b(docs\/[\w-]+\.md)(?::\s*([^;)]+))?/g)].map((m) => ({
        where: w,
        file: m[1]!,
        section: m[2]?.trim(),
      })),
    );
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) {
      const file = path.join(ROOT, r.file);
      expect(fs.existsSync(file), `${r.where} cites ${r.file}`).toBe(true);
      // a list after the colon ("docs/x.md: factors, quantized codes") says what, not where
      if (!r.section || r.section.includes(',')) continue;
      const text = fs.readFileSync(file, 'utf8');
      const headings = [...text.matchAll(/^#+\s+(.*)$/gm)].map((m) => m[1]!.toLowerCase());
      const found =
        headings.some((h) => h.startsWith(r.section!.toLowerCase())) || text.includes(`\`${r.section}\``);
      expect(found, `${r.where} cites ${r.file}: ${r.section}`).toBe(true);
    }
  });
});
