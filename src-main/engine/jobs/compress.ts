// compress: run a pipeline config (runner v2: any steps, one budget), export the result, optionally
// evaluate perplexity.
// Layer records, metrics and the exported checkpoint go to the store through ctx.record.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { recordMcResults } from '../eval/mc/record';
import { evaluateMcTasks } from '../eval/mc/run-tasks';
import { perplexity } from '../eval/perplexity';
import { measureSpeed, type SpeedResult } from '../eval/speed';
import { exportModel } from '../export/export-model';
import { resolverFor } from '../io/resolver';
import { sourceTokens } from '../io/token-source';
import { loadTokenizer } from '../io/tokenizer';
import { openModel } from '../model/model';
import { calibrationTokens } from '../pipeline/calibration-data';
import { parsePipelineConfig } from '../pipeline/config';
import { checkpointDtype, exportDtype } from '../pipeline/plan';
import { dtypeBytes } from '../pipeline/plan-state';
import { disposeOverrides, runPipeline } from '../pipeline/runner';
import type { CompressParams } from './compress.params';
import type { JobContext } from './job-context';
import { recordSpeed } from './speed-metrics';
import { checkFreeSpace, checkOutputFolder, claimWorkFolder, removeWorkFolder } from './work-folder';

export interface CompressResult {
  runId: number | null;
  achievedRatio: number;
  targetRatio: number | null;
  paramsBefore: number;
  paramsAfter: number;
  weightBytesBefore: number;
  weightBytesAfter: number;
  /** params minus the entries slimming zeroed, before and after */
  nonzerosBefore: number;
  nonzerosAfter: number;
  outDir: string;
  seconds: number;
  /** rank of the (first) low-rank step, null when nothing was decomposed */
  rank: number | null;
  /** layers whose routed experts end up factored */
  layers: number[];
  steps: {
    method: string;
    family: string;
    knobs: Record<string, number>;
    noop: boolean;
    paramsAfter: number | null;
    weightBytesAfter: number | null;
    nonzerosAfter: number | null;
  }[];
  warnings: string[];
  ppl?: number;
  /** forward speed of the compressed model during the first perplexity evaluation */
  tokensPerSecond?: number;
  /** evaluate.mc: per task acc / acc_norm (lm-eval names) of the compressed model */
  mc?: {
    task: string;
    n: number;
    acc: number;
    acc_norm?: number;
    acc_stderr: number | null;
    acc_norm_stderr?: number | null;
  }[];
  /** evaluate.speed: the original model and the compressed one */
  speed?: { before: SpeedResult; after: SpeedResult };
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export async function run(ctx: JobContext, params: CompressParams): Promise<CompressResult> {
  const t0 = performance.now();
  // the same resolver (baseDir, model and data roots from params) the host checked the references with
  const resolver = resolverFor(params);
  const config = parsePipelineConfig(params.config);
  if (config.calibration.text) config.calibration.text = resolver.resolvePath(config.calibration.text);
  const modelDir = resolver.resolveModel(config.model, { field: 'config.model' });
  const outDir = resolver.resolvePath(params.outDir);
  const workDir = resolver.resolvePath(params.workDir ?? `${outDir}.work`);
  // folders checked before any compute: a bad --out fails now, not after the whole compression
  checkOutputFolder(outDir, 'outDir');
  const release = claimWorkFolder(workDir);
  let model: ReturnType<typeof openModel>;
  try {
    model = openModel(modelDir);
  } catch (e) {
    release();
    throw e;
  }
  try {
    // export ≤ the source's bytes; the work files hold the changed layers in f32 (≤ 4/dtype × that)
    const sourceBytes = safetensorsBytes(modelDir);
    checkFreeSpace(outDir, sourceBytes, 'outDir', 'the export');
    checkFreeSpace(workDir, sourceBytes * 2, 'workDir', 'the per-layer work files');
    ctx.progress({ step: 'calibration data', fraction: 0 });
    const cal = await calibrationTokens(modelDir, config.calibration, { resolver });
    const dtype = exportDtype(config, checkpointDtype(modelDir));
    const r = await runPipeline({
      model,
      config,
      calibration: cal.sequences,
      workDir,
      signal: ctx.signal,
      bytesPerParam: dtypeBytes(dtype),
      resume: ctx.resumeFrom !== null || fs.existsSync(path.join(workDir, 'progress.json')),
      onProgress: (p) => {
        ctx.throwIfCancelled();
        ctx.progress({
          step: p.phase === 'done' ? 'done' : `step ${p.step + 1}/${p.steps} ${p.method} ${p.phase}`,
          layer: p.layer,
          layers: p.layers,
          fraction: 0.9 * p.fraction,
          message: p.message,
        });
      },
      onLayer: (step, l, rec, s) => ctx.record.layer(l, rec, s, step),
    });
    try {
      // the contract's metric names, so every run kind is read and compared the same way
      ctx.record.metric('paramsBefore', r.paramsBefore);
      ctx.record.metric('paramsAfter', r.paramsAfter);
      ctx.record.metric('achievedRatio', r.achievedRatio);
      ctx.record.metric('weightBytesBefore', r.weightBytesBefore, { unit: 'bytes' });
      ctx.record.metric('weightBytesAfter', r.weightBytesAfter, { unit: 'bytes' });
      ctx.record.metric('nonzerosAfter', r.nonzerosAfter, { unit: 'params' });
      if (r.targetRatio !== null) ctx.record.metric('targetRatio', r.targetRatio);
      const warnings: string[] = [];
      if (r.offTarget) {
        warnings.push(r.offTarget);
        ctx.record.metric('offTargetBy', Math.abs(r.achievedRatio - (r.targetRatio ?? 0)));
      }
      // export reads the persisted layers from their work files, and the layer-streamed evaluations
      // need one (or two) at a time: no more stay in memory
      r.overrides.release();
      r.overrides.residentLimit = 2;
      ctx.progress({ step: 'export', fraction: 0.9 });
      const ex = exportModel(model, r.overrides, outDir, {
        format: config.export?.format ?? 'factored',
        ...(config.export?.dtype ? { dtype: config.export.dtype } : {}),
        method: config.steps.map((st) => st.method).join('+'),
      });
      if (ex.fallbackReason) warnings.push(`exported in the workbench format: ${ex.fallbackReason}`);
      if (ex.gptq?.note) warnings.push(ex.gptq.note);
      for (const f of ex.files)
        ctx.record.artifact({ path: f, kind: 'checkpoint', bytes: fs.statSync(f).size, sha256: sha256(f) });
      // a persisted layer's manifest says it without reading the layer back
      const factored = [...r.overrides.keys()]
        .filter((l) => {
          const m = r.overrides.persistedAt(l)?.manifest;
          if (m) return m.experts.some((e) => 'A' in e.gate && !('base' in e.gate));
          return r.overrides.get(l)?.moe?.experts.some((e) => e.gate.kind === 'factored') ?? false;
        })
        .sort((a, b) => a - b);
      const result: CompressResult = {
        runId: ctx.runId,
        achievedRatio: r.achievedRatio,
        targetRatio: r.targetRatio,
        paramsBefore: r.paramsBefore,
        paramsAfter: r.paramsAfter,
        weightBytesBefore: r.weightBytesBefore,
        weightBytesAfter: r.weightBytesAfter,
        nonzerosBefore: r.nonzerosBefore,
        nonzerosAfter: r.nonzerosAfter,
        outDir,
        seconds: 0,
        rank: r.plan.steps.find((st) => st?.knobs.rank !== undefined)?.knobs.rank ?? null,
        layers: factored,
        steps: r.plan.steps.map((st, i) => ({
          method: st?.method ?? config.steps[i]!.method,
          family: st?.family ?? '',
          knobs: st?.knobs ?? {},
          noop: st?.noop ?? false,
          paramsAfter: st?.paramsAfter ?? null,
          weightBytesAfter: st?.weightBytesAfter ?? null,
          nonzerosAfter: st?.nonzerosAfter ?? null,
        })),
        warnings,
      };
      const evals = [
        ...(config.evaluate?.ppl ? [config.evaluate.ppl] : []),
        ...(config.evaluate?.perplexity ?? []),
      ];
      if (evals.length > 0) {
        const tok = await loadTokenizer(modelDir);
        for (const [i, ev] of evals.entries()) {
          ctx.progress({ step: 'perplexity', fraction: 0.95, message: `perplexity on ${ev.dataset}` });
          const { ids } = await sourceTokens({ dataset: ev.dataset }, resolver, tok);
          const p = await perplexity(model, ids, {
            seqLen: ev.seqLen,
            overrides: r.overrides,
            signal: ctx.signal,
            ...(ev.maxWindows ? { maxWindows: ev.maxWindows } : {}),
          });
          ctx.record.metric('ppl', p.ppl, { dataset: ev.dataset });
          if (i === 0) {
            ctx.record.metric('tokensPerSecond', p.tokensPerSecond, { unit: 'tok/s' });
            ctx.record.metric('peakRssBytes', p.peakRssBytes, { unit: 'bytes' });
            result.ppl = p.ppl;
            result.tokensPerSecond = p.tokensPerSecond;
          }
        }
      }
      if (config.evaluate?.mc) {
        const tok = await loadTokenizer(modelDir);
        const mc = await evaluateMcTasks(model, tok, config.evaluate.mc, resolver.options.datasetRoots, {
          overrides: r.overrides,
          signal: ctx.signal,
          onProgress: (e) =>
            ctx.progress({
              step: `mc ${e.task}`,
              fraction: 0.95 + 0.02 * e.fraction,
              ...(e.message ? { message: e.message } : {}),
            }),
        });
        recordMcResults(ctx.record, mc);
        result.mc = mc.map(({ task, n, acc, acc_norm, acc_stderr, acc_norm_stderr }) => ({
          task,
          n,
          acc,
          acc_stderr,
          ...(acc_norm !== undefined ? { acc_norm, acc_norm_stderr: acc_norm_stderr ?? null } : {}),
        }));
      }
      if (config.evaluate?.speed) {
        // the original first (no overrides), then the compressed model, same prompts and lengths
        ctx.progress({ step: 'speed', fraction: 0.97, message: 'speed of the original model' });
        const before = await measureSpeed(model, config.evaluate.speed, { signal: ctx.signal });
        ctx.progress({ step: 'speed', fraction: 0.985, message: 'speed of the compressed model' });
        // the KV-cache decoder keeps every layer resident
        r.overrides.residentLimit = Number.POSITIVE_INFINITY;
        const after = await measureSpeed(model, config.evaluate.speed, {
          overrides: r.overrides,
          signal: ctx.signal,
        });
        recordSpeed(ctx.record, before, 'before');
        recordSpeed(ctx.record, after, 'model');
        result.speed = { before, after };
      }
      removeWorkFolder(workDir);
      result.seconds = (performance.now() - t0) / 1000;
      ctx.progress({ step: 'done', fraction: 1 });
      return result;
    } finally {
      disposeOverrides(r.overrides);
    }
  } finally {
    model.checkpoint.close();
    release();
  }
}

function safetensorsBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}
