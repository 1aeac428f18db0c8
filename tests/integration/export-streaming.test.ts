// Export streams a run's finished layers from the work folder (issue 18): with the run's
// LayerOverrideStore, persisted layers are read from their work files tensor by tensor, never
// loaded as views (no store read, nothing resident, no tensor or file descriptor left behind), and
// the files written are byte for byte those of the same export from the in-memory views, in every
// format (factored, dense, gptq), for low-rank, quantized and pruned + factored layers.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExportFormat, exportModel } from '../../src-main/engine/export/export-model';
import { xoshiro128ss } from '../../src-main/engine/linalg/prng';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride } from '../../src-main/engine/model/types';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-streaming-'));
const models = new Map<string, LoadedModel>();
const rng = xoshiro128ss(18);
const calibration = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => rng.int(256)));

const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
/** every file of an export folder, by name, with its sha256 */
const digests = (dir: string) =>
  Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((f) => [f, sha(path.join(dir, f))]),
  );
const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : 0);

function model(arch: TinyArch): LoadedModel {
  let m = models.get(arch);
  if (!m) {
    const dir = path.join(root, arch);
    // BF16: the export's default dtype differs from the work files' F32 (and from the F16 quant tensors)
    writeTinyCheckpoint(dir, { arch, layers: 3, seed: 7, dtype: 'BF16' });
    m = openModel(dir);
    models.set(arch, m);
  }
  return m;
}

beforeAll(async () => {
  await initBackend({ force: 'wasm' });
});

afterAll(() => {
  for (const m of models.values()) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const cases: {
  name: string;
  arch: TinyArch;
  steps: { method: string; params: Record<string, unknown> }[];
  target?: Record<string, unknown>;
  formats: ExportFormat[];
}[] = [
  {
    name: 'svd at 40 %',
    arch: 'mixtral',
    target: { ratio: 0.4 },
    steps: [{ method: 'svd', params: {} }],
    formats: ['factored', 'dense'],
  },
  {
    name: 'rtn int4 g32 with the shared expert',
    arch: 'qwen2_moe',
    steps: [{ method: 'rtn', params: { bits: 4, groupSize: 32, symmetric: false, includeShared: true } }],
    formats: ['factored', 'dense', 'gptq'],
  },
  {
    name: 'expert-prune → svd',
    arch: 'deepseek',
    target: { ratio: 0.35, contributions: { P: 0.4, D: 0.6 } },
    steps: [
      { method: 'expert-prune', params: { metric: 'reap' } },
      { method: 'svd', params: {} },
    ],
    formats: ['factored', 'dense'],
  },
];

describe('export of a run streams its persisted layers', () => {
  for (const c of cases)
    it(`${c.name} (${c.arch}): byte-identical to the in-memory export, no layer loaded`, async () => {
      const m = model(c.arch);
      const cfg = parsePipelineConfig({
        version: 2,
        name: c.name,
        model: 'generated',
        calibration: { samples: 4, seqLen: 16, batch: 2 },
        ...(c.target ? { target: c.target } : {}),
        steps: c.steps,
      });
      const workDir = path.join(root, `${c.arch}-work`);
      const r = await runPipeline({ model: m, config: cfg, calibration, workDir });
      try {
        const persisted = [...r.overrides.keys()].filter((l) => r.overrides.persistedAt(l) !== null);
        expect(persisted).toEqual(m.spec.layerKinds.flatMap((k, l) => (k === 'moe' ? [l] : [])));
        for (const format of c.formats) {
          // streaming: nothing resident, and the export must not read any layer back
          r.overrides.release();
          r.overrides.residentLimit = 1;
          const reads = r.overrides.reads;
          const tensors = tf.memory().numTensors;
          const fds = openFds();
          const sOut = path.join(root, `${c.arch}-${format}-stream`);
          const s = exportModel(m, r.overrides, sOut, { format });
          expect(s.format).toBe(format);
          expect(r.overrides.reads).toBe(reads);
          expect(r.overrides.residentCount).toBe(0);
          expect(tf.memory().numTensors).toBe(tensors);
          expect(openFds()).toBe(fds);

          // in memory: a plain Map of every layer's view (what export used to hold)
          r.overrides.residentLimit = Number.POSITIVE_INFINITY;
          const views = new Map<number, LayerOverride>([...r.overrides]);
          const mOut = path.join(root, `${c.arch}-${format}-memory`);
          const v = exportModel(m, views, mOut, { format });
          expect(digests(sOut)).toEqual(digests(mOut));
          expect({ ...s, outDir: '', files: s.files.map((f) => path.basename(f)) }).toEqual({
            ...v,
            outDir: '',
            files: v.files.map((f) => path.basename(f)),
          });
        }
      } finally {
        disposeOverrides(r.overrides);
      }
    });
});
