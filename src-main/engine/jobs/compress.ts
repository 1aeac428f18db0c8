// compress: run a pipeline config (runner v1), export the result, optionally evaluate perplexity.
// Layer records, metrics and the exported checkpoint go to the store through ctx.record.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { perplexity } from '../eval/perplexity';
import { exportModel } from '../export/export-model';
import { defaultDataDirs, joinForPerplexity, loadDatasetRows, resolveDataset } from '../io/datasets';
import { loadTokenizer } from '../io/tokenizer';
import { openModel } from '../model/model';
import { calibrationTokens } from '../pipeline/calibration-data';
import { parsePipelineConfig } from '../pipeline/config';
import { resolveModelDir } from '../pipeline/model-ref';
import { disposeOverrides, runPipeline } from '../pipeline/runner';
import type { CompressParams } from './compress.params';
import type { JobContext } from './job-context';

export interface CompressResult {
  runId: number | null;
  achievedRatio: number;
  paramsBefore: number;
  paramsAfter: number;
  outDir: string;
  seconds: number;
  rank: number | null;
  layers: number[];
  ppl?: number;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export async function run(ctx: JobContext, params: CompressParams): Promise<CompressResult> {
  const t0 = performance.now();
  const base = params.baseDir ?? process.cwd();
  const config = parsePipelineConfig(params.config);
  if (config.calibration.text) config.calibration.text = path.resolve(base, config.calibration.text);
  const modelDir = resolveModelDir(config.model, base);
  const outDir = path.resolve(base, params.outDir);
  const workDir = path.resolve(base, params.workDir ?? `${outDir}.work`);
  const model = openModel(modelDir);
  try {
    ctx.progress({ step: 'calibration data', fraction: 0 });
    const cal = await calibrationTokens(modelDir, config.calibration, { dataDirs: params.dataDirs });
    const r = await runPipeline({
      model,
      config,
      calibration: cal.sequences,
      workDir,
      signal: ctx.signal,
      resume: ctx.resumeFrom !== null || fs.existsSync(path.join(workDir, 'progress.json')),
      onProgress: (p) => {
        ctx.throwIfCancelled();
        ctx.progress({
          step: p.step,
          layer: p.layer,
          layers: p.layers,
          fraction: 0.9 * p.fraction,
          ...(p.message ? { message: p.message } : {}),
        });
      },
      onLayer: (l, rec, s) => ctx.record.layer(l, rec, s),
    });
    try {
      // the contract's metric names, so every run kind is read and compared the same way
      ctx.record.metric('paramsBefore', r.paramsBefore);
      ctx.record.metric('paramsAfter', r.paramsAfter);
      ctx.record.metric('achievedRatio', r.achievedRatio);
      const target = (config.steps[0]!.params as { ratio?: number }).ratio ?? config.target?.ratio;
      if (target !== undefined) ctx.record.metric('targetRatio', target);
      ctx.progress({ step: 'export', fraction: 0.9 });
      const ex = exportModel(model, r.overrides, outDir, {
        format: config.export?.format ?? 'factored',
        ...(config.export?.dtype ? { dtype: config.export.dtype } : {}),
        method: config.steps[0]!.method as string,
      });
      for (const f of ex.files)
        ctx.record.artifact({ path: f, kind: 'checkpoint', bytes: fs.statSync(f).size, sha256: sha256(f) });
      const result: CompressResult = {
        runId: ctx.runId,
        achievedRatio: r.achievedRatio,
        paramsBefore: r.paramsBefore,
        paramsAfter: r.paramsAfter,
        outDir,
        seconds: 0,
        rank: r.plan.rank,
        layers: r.plan.layers,
      };
      const ev = config.evaluate?.ppl;
      if (ev) {
        ctx.progress({ step: 'perplexity', fraction: 0.95 });
        const ref = resolveDataset(ev.dataset, { dataDirs: [...params.dataDirs, ...defaultDataDirs()] });
        const tok = await loadTokenizer(modelDir);
        const ids = tok.encode(joinForPerplexity(await loadDatasetRows(ref)));
        const p = await perplexity(model, ids, {
          seqLen: ev.seqLen,
          overrides: r.overrides,
          signal: ctx.signal,
          ...(ev.maxWindows ? { maxWindows: ev.maxWindows } : {}),
        });
        ctx.record.metric('ppl', p.ppl, { dataset: ev.dataset });
        ctx.record.metric('tokensPerSecond', p.tokensPerSecond, { unit: 'tok/s' });
        ctx.record.metric('peakRssBytes', p.peakRssBytes, { unit: 'bytes' });
        result.ppl = p.ppl;
      }
      fs.rmSync(workDir, { recursive: true, force: true });
      result.seconds = (performance.now() - t0) / 1000;
      ctx.progress({ step: 'done', fraction: 1 });
      return result;
    } finally {
      disposeOverrides(r.overrides);
    }
  } finally {
    model.checkpoint.close();
  }
}
