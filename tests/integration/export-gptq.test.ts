// export.format "gptq" and the GPTQ reader on tiny checkpoints: experts quantized by hand with the
// RTN quantizer (int4 g32 symmetric, int8 per-channel asymmetric, int4 g32 act-order with the shared
// expert left in float) are exported; the written qweight/qzeros/scales/g_idx unpack to the stored
// integers, take exactly quantMatrixBytes, config.json carries a quantization_config whose
// modules_in_block_to_quantize selects exactly the quantized linears; the folder loads again
// (readMoeView gives `quantized` linears with the same codes) and its logits equal the in-memory
// model's bit for bit (both run the exact f32 dequantization); AutoGPTQ's dequantization in numpy
// agrees (to f64-vs-f32 rounding). Refusals: nothing quantized, mixed bits. A layout HF cannot say
// (Layer Drop) falls back to the workbench format, which keeps the codes.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { exportModel } from '../../src-main/engine/export/export-model';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { dominantDtype } from '../../src-main/engine/io/safetensors-header';
import { quantMatrixBytes } from '../../src-main/engine/methods/quant/accounting';
import { unpackGptq } from '../../src-main/engine/methods/quant/gptq-pack';
import {
  dequantize,
  type QuantizedWeight,
  quantizedWeight,
} from '../../src-main/engine/methods/quant/quantized-weight';
import { quantGrid, rtnQuantize } from '../../src-main/engine/methods/quant/quantizer';
import { readQuantized } from '../../src-main/engine/model/gptq-checkpoint';
import { disposeMoeView, readMoeView } from '../../src-main/engine/model/layer-weights';
import { sequenceLogits } from '../../src-main/engine/model/logits';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import { sourceLayerOverride } from '../../src-main/engine/model/source-layer';
import type { ExpertWeights, LayerOverride, Linear, MoeLayerView } from '../../src-main/engine/model/types';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { disposeOverrides, runPipeline } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { type TinyArch, writeTinyCheckpoint } from '../support/tiny-checkpoints';

const REF = path.resolve('tests/reference/gptq_reference.py');
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const IDS = Array.from({ length: 20 }, (_, i) => (i * 53 + 7) % 256);

let root: string;
const opened: LoadedModel[] = [];
const views: MoeLayerView[] = [];
const owned: tf.Tensor[] = [];

const open = (dir: string) => {
  const m = openModel(dir);
  opened.push(m);
  return m;
};
const config = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

interface QuantCase {
  bits: 4 | 8;
  groupSize: number;
  symmetric: boolean;
  actOrder: boolean;
  shared: boolean;
  /** quantize |W| for the first linear: all-positive groups get zero point 0, which only gptq_v2 stores */
  zeroPoint0?: boolean;
}

/** RTN of a dense linear; with act-order the column groups are permuted (a valid g_idx). */
function quantize(L: Linear, c: QuantCase, seed: number): Linear {
  if (L.kind !== 'dense') throw new Error('dense expected');
  const [out, inp] = L.w.shape;
  const W = L.w.dataSync() as Float32Array;
  const m = rtnQuantize(
    c.zeroPoint0 && seed === 0 ? W.map(Math.abs) : W,
    out,
    inp,
    quantGrid(c.bits, c.symmetric),
    c.groupSize,
  );
  const q = quantizedWeight(m, {
    bits: c.bits,
    groupSize: c.groupSize,
    symmetric: c.symmetric,
    actOrder: c.actOrder,
    outFeatures: out,
    inFeatures: inp,
  });
  if (c.actOrder) {
    const g = Array.from(q.gIdx);
    for (let i = 0; i < g.length; i++) {
      const j = (i * 7 + seed) % g.length;
      [g[i], g[j]] = [g[j]!, g[i]!];
    }
    q.gIdx = Int32Array.from(g);
  }
  const w = tf.tensor2d(dequantize(q), [out, inp]);
  owned.push(w);
  return { kind: 'quantized', w, q };
}

function quantizedOverrides(model: LoadedModel, c: QuantCase): Map<number, LayerOverride> {
  const overrides = new Map<number, LayerOverride>();
  model.spec.layerKinds.forEach((k, l) => {
    if (k !== 'moe') return;
    const v = readMoeView(model, l);
    views.push(v);
    const ex = (e: ExpertWeights, s: number): ExpertWeights => ({
      gate: quantize(e.gate, c, s),
      up: quantize(e.up, c, s + 1),
      down: quantize(e.down, c, s + 2),
    });
    const first = model.spec.layerKinds.indexOf('moe');
    const moe: MoeLayerView = { ...v, experts: v.experts.map((e, i) => ex(e, 10 * (l - first) + 3 * i)) };
    if (v.shared && c.shared) moe.shared = { ...v.shared, ...ex(v.shared, 99) };
    overrides.set(l, { moe });
  });
  return overrides;
}

/** Every quantized linear of the overrides under its HF module name. */
function quantizedByName(
  model: LoadedModel,
  overrides: Map<number, LayerOverride>,
): Map<string, QuantizedWeight> {
  const out = new Map<string, QuantizedWeight>();
  const names = model.spec.names;
  for (const [l, o] of overrides) {
    const v = o.moe!;
    const moe = names.moe(l);
    const add = (prefix: string, L: Linear) => {
      if (L.kind === 'quantized') out.set(prefix, L.q);
    };
    v.experts.forEach((e, i) => {
      for (const p of ['gate', 'up', 'down'] as const)
        add(`${moe}.${names.experts}.${i}.${names.expertProj[p]}`, e[p]);
    });
    if (v.shared)
      for (const p of ['gate', 'up', 'down'] as const)
        add(`${moe}.${names.sharedExpert}.${names.mlpProj[p]}`, v.shared[p]);
  }
  return out;
}

beforeAll(async () => {
  await initBackend();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-gptq-'));
});

afterAll(() => {
  for (const v of views) disposeMoeView(v);
  tf.dispose(owned);
  for (const m of opened) m.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const CASES: { arch: TinyArch; c: QuantCase }[] = [
  { arch: 'mixtral', c: { bits: 4, groupSize: 32, symmetric: true, actOrder: false, shared: false } },
  { arch: 'qwen2_moe', c: { bits: 8, groupSize: -1, symmetric: false, actOrder: false, shared: true } },
  {
    arch: 'deepseek',
    c: { bits: 4, groupSize: 32, symmetric: false, actOrder: true, shared: false, zeroPoint0: true },
  },
];

describe('gptq export → load', () => {
  for (const { arch, c } of CASES) {
    it(`${arch}: int${c.bits} g${c.groupSize} ${c.symmetric ? 'sym' : 'asym'}${c.actOrder ? ' act-order' : ''}`, async () => {
      const dir = path.join(root, arch);
      writeTinyCheckpoint(dir, { arch, layers: 3, seed: 11 });
      const model = open(dir);
      const overrides = quantizedOverrides(model, c);
      const want = await sequenceLogits(model, IDS, { overrides });
      const out = path.join(root, `${arch}-gptq`);
      const r = exportModel(model, overrides, out, { format: 'gptq' });
      expect(r.format).toBe('gptq');
      expect(r.fallbackReason).toBeUndefined();
      const byName = quantizedByName(model, overrides);
      const allV1 = [...byName.values()].every((q) => q.zeros.every((z) => z >= 1));
      const fmt = allV1 ? 'gptq' : 'gptq_v2';
      expect(r.gptq).toMatchObject({
        checkpointFormat: fmt,
        bits: c.bits,
        groupSize: c.groupSize,
        symmetric: c.symmetric,
        descAct: c.actOrder,
        quantizedLinears: byName.size,
      });
      if (c.symmetric) expect(fmt).toBe('gptq');
      if (c.zeroPoint0) {
        expect(fmt).toBe('gptq_v2');
        expect(r.gptq?.note).toMatch(/zero point is 0/);
      }

      const qc = config(out).quantization_config;
      expect(qc).toMatchObject({
        quant_method: 'gptq',
        bits: c.bits,
        group_size: c.groupSize,
        sym: c.symmetric,
        desc_act: c.actOrder,
        checkpoint_format: fmt,
      });
      expect(JSON.parse(fs.readFileSync(path.join(out, 'quantize_config.json'), 'utf8'))).toEqual(qc);

      // the written tensors: unpack to the stored integers, exactly the accounted bytes
      const st = SafetensorsFile.open(path.join(out, 'model.safetensors'));
      try {
        const names = st.names();
        for (const [prefix, q] of byName) {
          expect(names).not.toContain(`${prefix}.weight`);
          const i32 = (n: string) => {
            expect(st.info(n).dtype).toBe('I32');
            const raw = st.readRaw(n);
            return new Int32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
          };
          expect(st.info(`${prefix}.scales`).dtype).toBe('F16');
          const bytes = ['qweight', 'qzeros', 'scales', 'g_idx'].reduce(
            (a, p) => a + st.info(`${prefix}.${p}`).byteLength,
            0,
          );
          expect(bytes).toBe(quantMatrixBytes(q.outFeatures, q.inFeatures, q.bits, q.groupSize));
          const back = unpackGptq(
            {
              qweight: i32(`${prefix}.qweight`),
              qzeros: i32(`${prefix}.qzeros`),
              scales: st.readF32(`${prefix}.scales`),
              gIdx: i32(`${prefix}.g_idx`),
            },
            { ...q, format: fmt },
          );
          expect(firstDiff(back.codes, q.codes)).toBe(-1);
          expect(firstDiff(back.zeros, q.zeros)).toBe(-1);
          expect(firstDiff(back.scales, q.scales)).toBe(-1);
          expect(firstDiff(back.gIdx, q.gIdx)).toBe(-1);
        }
        // every other block linear (attention, routers, a float shared expert) is a plain weight
        const quantNames = names
          .filter((n) => n.endsWith('.qweight'))
          .map((n) => n.slice(0, -'.qweight'.length));
        expect(new Set(quantNames)).toEqual(new Set(byName.keys()));
      } finally {
        st.close();
      }

      // modules_in_block_to_quantize selects exactly the quantized linears (optimum: endswith, vLLM: substring)
      const mods: string[] = qc.modules_in_block_to_quantize.flat();
      const back = open(out);
      const linears = back.checkpoint
        .names()
        .filter(
          (n) =>
            n.startsWith('model.layers.') &&
            ((n.endsWith('.weight') && back.checkpoint.info(n).shape.length === 2) || n.endsWith('.qweight')),
        )
        .map((n) => n.replace(/\.q?weight$/, ''));
      for (const m of linears) {
        expect(mods.some((x) => m.endsWith(x))).toBe(byName.has(m));
        expect(mods.some((x) => m.includes(x))).toBe(byName.has(m));
      }
      // GPTQModel's dynamic exclusion matches exactly the float linears
      const dyn = Object.keys(qc.dynamic ?? {});
      expect(dyn).toHaveLength(1);
      const re = new RegExp(dyn[0]!.slice(2));
      for (const m of linears) expect(re.test(m)).toBe(!byName.has(m));

      // the reader: packed linears come back quantized, with the same integers; logits bit-identical
      expect(back.gptq?.linears.size).toBe(byName.size);
      for (const [prefix, q] of byName) {
        const got = readQuantized(back.checkpoint, prefix, back.gptq!.linears.get(prefix)!);
        expect(firstDiff(got.codes, q.codes)).toBe(-1);
        expect(firstDiff(got.zeros, q.zeros)).toBe(-1);
      }
      const moeLayer = back.spec.layerKinds.indexOf('moe');
      const v = readMoeView(back, moeLayer);
      views.push(v);
      expect(v.experts[0]!.gate.kind).toBe('quantized');
      const got = await sequenceLogits(back, IDS);
      expect(maxAbs(got, want)).toBe(0);
      if (hasNumpy) {
        const idsFile = path.join(out, 'ids.json');
        const refFile = path.join(out, 'ref.json');
        fs.writeFileSync(idsFile, JSON.stringify({ ids: IDS }));
        execFileSync('python3', [REF, 'logits', '--model', out, '--ids', idsFile, '--out', refFile]);
        const ref = (JSON.parse(fs.readFileSync(refFile, 'utf8')) as { logits: number[] }).logits;
        expect(maxAbs(ref, want)).toBeLessThan(1e-3);
      }

      // re-exports of the loaded GPTQ folder: gptq keeps the integers, dense writes the dequantization
      const again = path.join(root, `${arch}-gptq-again`);
      const r2 = exportModel(back, new Map(), again, { format: 'gptq' });
      expect(r2.gptq?.quantizedLinears).toBe(byName.size);
      expect(r2.params).toBe(r.params);
      expect(maxAbs(await sequenceLogits(open(again), IDS), want)).toBe(0);
      const dense = path.join(root, `${arch}-dense`);
      exportModel(back, new Map(), dense, { format: 'dense' });
      expect(config(dense).quantization_config).toBeUndefined();
      expect(fs.existsSync(path.join(dense, 'quantize_config.json'))).toBe(false);
      expect(maxAbs(await sequenceLogits(open(dense), IDS), want)).toBe(0);
    });
  }
});

describe('gptq export refusals and fallback', () => {
  it('refuses a model with nothing quantized, naming the field', () => {
    const dir = path.join(root, 'plain');
    writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 2, seed: 3 });
    const model = open(dir);
    expect(() => exportModel(model, new Map(), path.join(root, 'plain-out'), { format: 'gptq' })).toThrow(
      EngineError,
    );
    expect(() => exportModel(model, new Map(), path.join(root, 'plain-out'), { format: 'gptq' })).toThrow(
      /export\.format.*nothing in it is quantized/,
    );
  });

  it('refuses mixed bit widths (one quantization_config holds one)', () => {
    const dir = path.join(root, 'mixed-bits');
    writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 2, seed: 3 });
    const model = open(dir);
    const a = quantizedOverrides(model, {
      bits: 4,
      groupSize: 32,
      symmetric: true,
      actOrder: false,
      shared: false,
    });
    const b = quantizedOverrides(model, {
      bits: 8,
      groupSize: 32,
      symmetric: true,
      actOrder: false,
      shared: false,
    });
    const mixed = new Map([
      [0, a.get(0)!],
      [1, b.get(1)!],
    ]);
    expect(() => exportModel(model, mixed, path.join(root, 'mixed-out'), { format: 'gptq' })).toThrow(
      /different bit widths/,
    );
  });

  it('a slimmed (sparse) model exports as a dense HF checkpoint with the zeros in place; gptq refuses it', async () => {
    const dir = path.join(root, 'sparse');
    writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 2, seed: 6 });
    const model = open(dir);
    const o = new Map<number, LayerOverride>();
    const masked = new Map<string, Float32Array>();
    for (const l of [0, 1]) {
      const v = readMoeView(model, l);
      views.push(v);
      const experts = v.experts.map((e, i) => {
        const sp = (L: Linear, p: string): Linear => {
          if (L.kind !== 'dense') throw new Error('dense expected');
          // 2:4 — the first two of every four input columns zeroed
          const w = (L.w.dataSync() as Float32Array).map((x, j) => (j % 4 < 2 ? 0 : x));
          masked.set(`model.layers.${l}.block_sparse_moe.experts.${i}.${p}.weight`, w);
          const t = tf.tensor2d(w, L.w.shape);
          owned.push(t);
          return { kind: 'dense', w: t, sparse: { pattern: '2:4', pruned: w.length / 2 } };
        };
        return { gate: sp(e.gate, 'w1'), up: sp(e.up, 'w3'), down: sp(e.down, 'w2') };
      });
      o.set(l, { moe: { ...v, experts } });
    }
    const want = await sequenceLogits(model, IDS, { overrides: o });
    expect(() => exportModel(model, o, path.join(root, 'sparse-gptq'), { format: 'gptq' })).toThrow(
      /nothing in it is quantized/,
    );
    const out = path.join(root, 'sparse-dense');
    const r = exportModel(model, o, out, { format: 'dense' });
    expect(r.format).toBe('dense');
    const back = open(out);
    for (const [name, w] of masked) expect(firstDiff(back.checkpoint.readF32(name), w)).toBe(-1);
    expect(maxAbs(await sequenceLogits(back, IDS), want)).toBe(0);
  });

  it('a workbench-format folder holding quantized codes re-exports as gptq with the same integers', async () => {
    const dir = path.join(root, 'wb-src');
    writeTinyCheckpoint(dir, { arch: 'qwen2_moe', layers: 2, seed: 9 });
    const model = open(dir);
    const c: QuantCase = { bits: 8, groupSize: 32, symmetric: true, actOrder: false, shared: true };
    const o = quantizedOverrides(model, c);
    const want = await sequenceLogits(model, IDS, { overrides: o });
    const wb = path.join(root, 'wb-quant');
    expect(exportModel(model, o, wb, { format: 'factored' }).format).toBe('factored');
    const back = open(wb);
    const out = path.join(root, 'wb-gptq');
    const r = exportModel(back, new Map(), out, { format: 'gptq' });
    expect(r.gptq).toMatchObject({
      bits: 8,
      groupSize: 32,
      quantizedLinears: quantizedByName(model, o).size,
    });
    const g = open(out);
    for (const [prefix, q] of quantizedByName(model, o)) {
      const got = readQuantized(g.checkpoint, prefix, g.gptq!.linears.get(prefix)!);
      expect(firstDiff(got.codes, q.codes)).toBe(-1);
      expect(firstDiff(got.zeros, q.zeros)).toBe(-1);
    }
    expect(maxAbs(await sequenceLogits(g, IDS), want)).toBe(0);
  });

  it('a Layer Drop has no HF form: the workbench format is written, with the codes, and loads', async () => {
    const dir = path.join(root, 'drop');
    writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 3, seed: 4 });
    const model = open(dir);
    const o = quantizedOverrides(model, {
      bits: 4,
      groupSize: 32,
      symmetric: true,
      actOrder: false,
      shared: false,
    });
    o.set(1, { skipFfn: true });
    const want = await sequenceLogits(model, IDS, { overrides: o });
    const out = path.join(root, 'drop-out');
    const r = exportModel(model, o, out, { format: 'gptq' });
    expect(r.format).toBe('factored');
    expect(r.fallbackReason).toMatch(/Layer Drop/);
    expect(config(out).quantization_config).toBeUndefined();
    const back = open(out);
    const stored = sourceLayerOverride(back, 0)?.moe;
    if (!stored) throw new Error('layer 0 should be a stored view');
    views.push(stored);
    expect(stored.experts[0]!.gate.kind).toBe('quantized');
    expect(maxAbs(await sequenceLogits(back, IDS), want)).toBe(0);
  });
});

describe('GPTQ reader refuses what it cannot read, naming the field', () => {
  let src: string;
  beforeAll(() => {
    const dir = path.join(root, 'bad-src');
    writeTinyCheckpoint(dir, { arch: 'mixtral', layers: 2, seed: 8 });
    const model = open(dir);
    src = path.join(root, 'bad-gptq');
    exportModel(
      model,
      quantizedOverrides(model, { bits: 4, groupSize: 32, symmetric: true, actOrder: false, shared: false }),
      src,
      {
        format: 'gptq',
      },
    );
  });
  const variant = (name: string, edit: (q: Record<string, unknown>) => void) => {
    const dir = path.join(root, name);
    fs.cpSync(src, dir, { recursive: true });
    const c = config(dir);
    edit(c.quantization_config);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
    return dir;
  };
  it('unsupported bits / quant_method / checkpoint_format', () => {
    expect(() =>
      openModel(
        variant('bad-bits', (q) => {
          q.bits = 3;
        }),
      ),
    ).toThrow(/quantization_config\.bits: bits 3 is not supported; allowed: 4, 8/);
    expect(() =>
      openModel(
        variant('bad-method', (q) => {
          q.quant_method = 'awq';
        }),
      ),
    ).toThrow(/quant_method "awq" is not supported; allowed: "gptq"/);
    expect(() =>
      openModel(
        variant('bad-fmt', (q) => {
          q.checkpoint_format = 'marlin';
        }),
      ),
    ).toThrow(/checkpoint_format "marlin"/);
  });
  it("the storage dtype is the float one, whatever the int32 packs' share of the bytes", () => {
    expect(
      dominantDtype([
        { dtype: 'I32', byteLength: 900 },
        { dtype: 'BF16', byteLength: 100 },
      ]),
    ).toBe('BF16');
    expect(dominantDtype([{ dtype: 'I32', byteLength: 900 }])).toBe('I32');
  });
  it('tensors that do not match the config', () => {
    expect(() =>
      openModel(
        variant('bad-b8', (q) => {
          q.bits = 8;
        }),
      ),
    ).toThrow(/qweight is \[.*\], but a \[.*\] linear at 8 bits/);
    expect(() =>
      openModel(
        variant('bad-g', (q) => {
          q.group_size = 64;
        }),
      ),
    ).toThrow(/qzeros is \[/);
  });
});

describe('a gptq pipeline step exported as gptq (the run as the CLI does it)', () => {
  it('tiny-mixtral gptq int4 g32 act-order: file tensor bytes = the run weightBytesAfter, logits bit-identical', async () => {
    const model = open(path.resolve('resources/models/tiny-mixtral'));
    const cfg = parsePipelineConfig({
      version: 2,
      name: 'gptq-export',
      model: 'tiny-mixtral',
      calibration: { samples: 4, seqLen: 24, batch: 2 },
      steps: [{ method: 'gptq', params: { bits: 4, groupSize: 32, actOrder: true } }],
    });
    const calibration = Array.from({ length: 4 }, (_, s) =>
      Array.from({ length: 24 }, (_, i) => 3 + ((s * 31 + i * 17) % 250)),
    );
    const bytesPerParam = 2; // the embedded model is BF16, and so is the export
    const r = await runPipeline({
      model,
      config: cfg,
      calibration,
      workDir: path.join(root, 'gptq-run'),
      bytesPerParam,
    });
    try {
      const want = await sequenceLogits(model, IDS, { overrides: r.overrides });
      const out = path.join(root, 'gptq-run-out');
      const ex = exportModel(model, r.overrides, out, { format: 'gptq' });
      expect(ex.gptq).toMatchObject({
        bits: 4,
        groupSize: 32,
        descAct: true,
        symmetric: true,
        checkpointFormat: 'gptq',
      });
      const st = SafetensorsFile.open(path.join(out, 'model.safetensors'));
      const data = st.names().reduce((a, n) => a + st.info(n).byteLength, 0);
      st.close();
      expect(data).toBe(r.weightBytesAfter);
      expect(ex.params).toBe(r.paramsAfter);
      expect(maxAbs(await sequenceLogits(open(out), IDS), want)).toBe(0);
    } finally {
      disposeOverrides(r.overrides);
    }
  });
});
