// Experts whose intermediate width shrank (D²-MoE's structured base pruning removes channels) are
// stored and reloaded by the workbench format: the manifest check reads each expert's width from its
// own down projection instead of requiring the config's moe_intermediate_size.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exportModel } from '../../src-main/engine/export/export-model';
import { StreamingExecutor } from '../../src-main/engine/model/executor';
import { summarize } from '../../src-main/engine/model/inspect';
import { readMoeView } from '../../src-main/engine/model/layer-weights';
import { type LoadedModel, openModel } from '../../src-main/engine/model/model';
import type { LayerOverride, Linear, MoeLayerView, Tensor2D } from '../../src-main/engine/model/types';
import { stateFromSpec, stateParams, stateWithOverrides } from '../../src-main/engine/pipeline/plan-state';
import { disposeOverrides } from '../../src-main/engine/pipeline/runner';
import { initBackend, tf } from '../../src-main/engine/tensor/backend';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'narrow-'));
let model: LoadedModel;
beforeAll(async () => {
  await initBackend();
  writeTinyCheckpoint(path.join(root, 'src'), { arch: 'mixtral', layers: 3, seed: 5 });
  model = openModel(path.join(root, 'src'));
});
afterAll(() => {
  model.checkpoint.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function logits(m: LoadedModel, overrides: Map<number, LayerOverride>): Promise<Float32Array> {
  const exec = new StreamingExecutor(m, { overrides });
  const x = await exec.forward(exec.embed([Array.from({ length: 12 }, (_, i) => (i * 7) % 200)]));
  const out: number[] = [];
  await exec.logitsChunks(x.hidden, (_r, l) => {
    out.push(...(l.dataSync() as Float32Array));
  });
  x.hidden.dispose();
  exec.dispose();
  return Float32Array.from(out);
}

it('a layer whose experts keep I − 3 channels round-trips bit for bit, and inspect counts it exactly', async () => {
  const v = readMoeView(model, 1);
  const I = model.spec.moeIntermediate;
  const keep = I - 3;
  const rows = (L: Linear) =>
    ({ kind: 'dense', w: tf.slice((L as { w: Tensor2D }).w, [0, 0], [keep, -1]) as Tensor2D }) as Linear;
  const cols = (L: Linear) =>
    ({ kind: 'dense', w: tf.slice((L as { w: Tensor2D }).w, [0, 0], [-1, keep]) as Tensor2D }) as Linear;
  const narrow: MoeLayerView = {
    ...v,
    router: tf.clone(v.router),
    experts: v.experts.map((e) => ({ gate: rows(e.gate), up: rows(e.up), down: cols(e.down) })),
  };
  tf.dispose(v.experts.flatMap((e) => [e.gate, e.up, e.down].map((L) => (L as { w: Tensor2D }).w)));
  v.router.dispose();
  const overrides = new Map<number, LayerOverride>([[1, { moe: narrow }]]);
  const out = path.join(root, 'out');
  exportModel(model, overrides, out, { format: 'factored', dtype: 'F32' });
  const back = openModel(out);
  try {
    expect(summarize(back).params.total).toBe(
      stateParams(stateWithOverrides(stateFromSpec(model.spec), overrides)),
    );
    expect(await logits(back, new Map())).toEqual(await logits(model, overrides));
  } finally {
    back.checkpoint.close();
    disposeOverrides(overrides);
  }
});
