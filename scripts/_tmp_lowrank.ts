import { writeTinyCheckpoint } from '../tests/support/tiny-checkpoints';
import { initBackend } from '../src-main/engine/tensor/backend';
import { openModel } from '../src-main/engine/model/model';
import { parsePipelineConfig } from '../src-main/engine/pipeline/config';
import { runPipeline } from '../src-main/engine/pipeline/runner';
import { xoshiro128ss } from '../src-main/engine/linalg/prng';
await initBackend();
writeTinyCheckpoint('/tmp/lr/m', { arch: 'mixtral', layers: 4, seed: 7 });
const model = openModel('/tmp/lr/m');
const rng = xoshiro128ss(1);
const cal = Array.from({ length: 8 }, () => Array.from({ length: 32 }, () => rng.int(256)));
for (const method of ['svd', 'asvd', 'svd-llm', 'moe-svd']) {
  const config = parsePipelineConfig({ version: 1, name: 'x', model: '/tmp/lr/m', target: { ratio: 0.2 }, calibration: { samples: 8, seqLen: 32, batch: 4 }, steps: [{ method, params: {} }] });
  const t = performance.now();
  const r = await runPipeline({ model, config, calibration: cal, workDir: `/tmp/lr/work-${method}` });
  console.log(method, r.plan.rank, r.plan.layers, r.paramsBefore, r.paramsAfter, r.plan.predictedAfter, r.achievedRatio.toFixed(4), ((performance.now() - t) / 1000).toFixed(1), JSON.stringify(r.records.get(r.plan.layers[0]!)?.relError ?? r.records.get(r.plan.layers[0]!)?.gateSharedRelError));
}
