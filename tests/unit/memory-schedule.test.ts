// The memory pre-flight pinned on real model shapes: sparse real-size HF checkpoints (valid bf16
// safetensors headers, shards truncated to full size — no data written) of Mixtral-8x7B and
// OLMoE-1B-7B, opened by the real loader. SVD-LLM's expert-by-expert schedule must fit 24 GiB on
// Mixtral where the whole-layer formula needed ~42.9 GiB, and it must stay above what one expert's
// down-projection whitening alone holds.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asvdDeclaration } from '../../src-main/engine/methods/asvd.params';
import {
  expertByExpertMemory,
  OVERLAP_MAX_BYTES,
  whiteningOverlaps,
} from '../../src-main/engine/methods/lowrank/memory-schedule';
import type { AnyMethodDeclaration } from '../../src-main/engine/methods/method';
import { gramBytes } from '../../src-main/engine/methods/params-common';
import { svdDeclaration } from '../../src-main/engine/methods/svd.params';
import { svdLlmDeclaration } from '../../src-main/engine/methods/svd-llm.params';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import {
  checkMemory,
  estimateRunMemory,
  type MemoryEstimate,
  type StepMemory,
} from '../../src-main/engine/pipeline/memory-preflight';
import { stateFromSpec, stateParams } from '../../src-main/engine/pipeline/plan-state';
import { preflightEstimate } from '../support/preflight-estimate';
import { MIXTRAL_8X7B, OLMOE_1B_7B, writeSparseCheckpoint } from '../support/sparse-checkpoints';

const GiB = 2 ** 30;
const CAL = { samples: 32, seqLen: 256, batch: 8 };

const estimateFor = (model: LoadedModel, decl: AnyMethodDeclaration, raw: unknown) =>
  preflightEstimate(model, decl, raw, 0.2, CAL);

const term = (e: MemoryEstimate, re: RegExp) => e.terms.find((t) => re.test(t.label))?.bytes ?? 0;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sparse-ckpt-'));
let mixtral: LoadedModel;
let olmoe: LoadedModel;

beforeAll(() => {
  writeSparseCheckpoint(path.join(tmp, 'mixtral'), MIXTRAL_8X7B);
  writeSparseCheckpoint(path.join(tmp, 'olmoe'), OLMOE_1B_7B);
  mixtral = openModel(path.join(tmp, 'mixtral'));
  olmoe = openModel(path.join(tmp, 'olmoe'));
});

afterAll(() => {
  mixtral?.checkpoint.close();
  olmoe?.checkpoint.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('memory pre-flight on real model shapes (sparse checkpoints)', () => {
  it('opens real-size checkpoints: Mixtral-8x7B has 46.7 B parameters, OLMoE-1B-7B 6.9 B', () => {
    expect(stateParams(stateFromSpec(mixtral.spec))).toBe(46_702_792_704);
    expect(stateParams(stateFromSpec(olmoe.spec))).toBe(6_919_161_856);
  });

  it('Mixtral-8x7B SVD-LLM: the old whole-layer formula needs ~42.9 GiB, the expert-by-expert schedule fits 24 GiB', () => {
    const old = estimateRunMemory(mixtral.spec, CAL, gramBytes(mixtral.spec));
    expect(old.totalBytes / GiB).toBeGreaterThan(42.5);
    expect(old.totalBytes / GiB).toBeLessThan(43.5);
    expect(old.gramBytes).toBe(2 * 8 * 8 * (4096 ** 2 + 14336 ** 2));
    expect(() => checkMemory(old, 24 * GiB)).toThrow(/needs about 4[23]\.\d\d GiB/);

    const { est, rank, stats } = estimateFor(mixtral, svdLlmDeclaration, {});
    expect(est.schedule).toBe('per-expert');
    expect(rank).toBeGreaterThan(2000);
    expect(est.totalBytes).toBeLessThan(24 * GiB);
    // by hand: the down projection's Cholesky factor and inverse alone are 2 × 14336² f64
    const floor = 2 * 14336 ** 2 * 8;
    expect(est.totalBytes).toBeGreaterThan(floor);
    expect(est.layerBytes).toBeGreaterThan(floor);
    expect(() => checkMemory(est, 24 * GiB)).not.toThrow();
    // the peak is one expert's down projection: its decoded matrices (3 × 4096 × 14336 f32), the
    // Cholesky factor and inverse of its 14336² intermediate Gram with the f32 copy for the product
    expect(est.peakPhase).toBe('down factorisation of one expert');
    expect(term(est, /one expert's gate\/up\/down decoded/)).toBe(3 * 4096 * 14336 * 4);
    expect(term(est, /Cholesky factor and inverse 14336² f64/)).toBe(2 * 14336 ** 2 * 8 + 2 * 14336 ** 2 * 4);
    expect(term(est, /layer's factors as they accumulate/)).toBe(8 * 3 * rank * (4096 + 14336) * 4);
    // and its whitening holds the Gram, L, and two repair copies (shift-min-eig on a singular Gram)
    const whitening = stats.phases.find((p) => p.name === 'intermediate whitening of one expert')!;
    expect(
      whitening.terms.find((t) => /intermediate Gram 14336² f64 \+ its Cholesky/.test(t.label))!.bytes,
    ).toBe(4 * 14336 ** 2 * 8);
    // nothing scales with every expert's Grams at once
    expect(est.totalBytes).toBeLessThan(gramBytes(mixtral.spec));
  });

  it('Mixtral-8x7B: a refusal names the driver of the estimate', () => {
    const { est } = estimateFor(mixtral, svdLlmDeclaration, {});
    let message = '';
    let hint = '';
    try {
      checkMemory(est, 4 * GiB);
    } catch (e) {
      message = (e as Error).message;
      hint = (e as { hint?: string }).hint ?? '';
    }
    expect(message).toMatch(/expert by expert/);
    expect(message).toMatch(/14336² f64/);
    expect(hint).toMatch(/driven by /);
  });

  it('OLMoE-1B-7B: per-expert estimates for svd, asvd and svd-llm, far below the whole-layer formula', () => {
    const old = estimateRunMemory(olmoe.spec, CAL, gramBytes(olmoe.spec));
    const { est, stats } = estimateFor(olmoe, svdLlmDeclaration, {});
    expect(est.totalBytes).toBeLessThan(old.totalBytes / 2);
    // one OLMoE expert's input Gram (h = 2048 > I = 1024) is its largest whitening
    const whitening = stats.phases.find((p) => p.name === 'input whitening of one expert')!;
    expect(whitening.terms.find((t) => /input Gram 2048² f64 \+ its Cholesky/.test(t.label))!.bytes).toBe(
      4 * 2048 ** 2 * 8,
    );
    expect(est.peakPhase).toBe('calibration sweep');
    // the executor's f32 copy of a layer (64 experts) is the sweep phase: a lower bound of the peak
    expect(est.layerBytes).toBeGreaterThanOrEqual(64 * 3 * 2048 * 1024 * 4);
    const svd = estimateFor(olmoe, svdDeclaration, {}).est;
    const asvd = estimateFor(olmoe, asvdDeclaration, {}).est;
    expect(svd.totalBytes).toBeLessThanOrEqual(asvd.totalBytes);
    expect(asvd.totalBytes).toBeLessThanOrEqual(est.totalBytes);
  });

  it('the whitening thread: OLMoE overlaps two experts (one more term per phase, exact bytes), Mixtral stays sequential', () => {
    const input = (model: LoadedModel, threads: number) => ({
      spec: model.spec,
      state: stateFromSpec(model.spec),
      calibration: CAL,
      rank: 400,
      scale: 'whitening' as const,
      repair: 'shift-min-eig' as const,
      oversampling: 10,
      captureBudgetBytes: 2 ** 30,
      threads,
    });
    const other = (m: StepMemory) =>
      m.phases.flatMap((p) => p.terms.filter((t) => /whitening thread/.test(t.label)).map((t) => t.bytes));
    const o1 = expertByExpertMemory(input(olmoe, 1));
    const o2 = expertByExpertMemory(input(olmoe, 2));
    expect(other(o1)).toEqual([]);
    // 4 copies + the queued Gram on the larger side, S and S⁻¹ of both sides; every phase but the view build
    const bytes = (5 * 2048 ** 2 + 2 * (2048 ** 2 + 1024 ** 2)) * 8;
    expect(other(o2)).toEqual(Array(o2.phases.length - 1).fill(bytes));
    expect(whiteningOverlaps({ hidden: 2048, intermediate: 1024, repair: 'shift-min-eig', threads: 2 })).toBe(
      true,
    );
    expect(whiteningOverlaps({ hidden: 2048, intermediate: 1024, repair: 'shift-min-eig', threads: 1 })).toBe(
      false,
    );
    // Mixtral's down side: 4 × 14336² f64 = 6.1 GiB, above OVERLAP_MAX_BYTES
    expect(4 * 14336 ** 2 * 8).toBeGreaterThan(OVERLAP_MAX_BYTES);
    expect(other(expertByExpertMemory(input(mixtral, 2)))).toEqual([]);
    expect(expertByExpertMemory(input(mixtral, 2))).toEqual(expertByExpertMemory(input(mixtral, 1)));
  });
});
