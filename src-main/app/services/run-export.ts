// `runs.exportOptions`: what the run page's Export offers — the export job's own formats (its
// params schema is the one declaration), less GPTQ for a run without a quantization step — and the
// folder a run's checkpoint lives in. The export itself is an `export` job (jobs.start).
import path from 'node:path';
import { ExportParams } from '../../engine/jobs/export.params';
import { METHODS } from '../../engine/methods/catalog';
import { notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};

export function runExportHandlers(ctx: ServiceContext): Pick<Handlers, 'runs.exportOptions'> {
  return {
    'runs.exportOptions': async ({ id }) => {
      const run = ctx.store.runs.detail(id);
      if (!run) throw notFound('run', id);
      const checkpoint = run.artifacts.find((a) => a.kind === 'checkpoint');
      const steps = asObj(asObj(run.config).config).steps;
      const quantized = (Array.isArray(steps) ? steps : []).some(
        (s) => METHODS.get(String(asObj(s).method))?.family === 'Q',
      );
      const offered = ExportParams.shape.format.unwrap().options as readonly string[];
      return {
        checkpoint: checkpoint ? path.dirname(checkpoint.path) : null,
        formats: offered.filter((f) => f !== 'gptq' || quantized),
        defaultOutDir: path.join(ctx.home, 'exports', `run-${id}-export`),
      };
    },
  };
}
