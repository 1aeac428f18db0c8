// export: re-export a stored checkpoint (a compress run's output, or any model folder) as a plain HF
// checkpoint or in the workbench format, optionally in another dtype (`moe-bench export`). Every
// layer keeps the state the source stores; the written files are the run's artifacts.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type ExportResult, exportModel } from '../export/export-model';
import { resolverFor } from '../io/resolver';
import { openModel } from '../model/model';
import type { ExportParams } from './export.params';
import type { JobContext } from './job-context';
import { checkFreeSpace, checkOutputFolder } from './work-folder';

export type ExportJobResult = { runId: number | null } & ExportResult;

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

export async function run(ctx: JobContext, params: ExportParams): Promise<ExportJobResult> {
  const resolver = resolverFor(params);
  const modelDir = resolver.resolveModel(params.model);
  const outDir = resolver.resolvePath(params.outDir);
  checkOutputFolder(outDir, 'outDir');
  const model = openModel(modelDir);
  try {
    // the export holds at most the source's tensors (a dtype change to f32 at most doubles bf16)
    const sourceBytes = fs
      .readdirSync(modelDir)
      .filter((f) => f.endsWith('.safetensors'))
      .reduce((n, f) => n + fs.statSync(path.join(modelDir, f)).size, 0);
    checkFreeSpace(outDir, params.dtype === 'F32' ? 2 * sourceBytes : sourceBytes, 'outDir', 'the export');
    ctx.progress({ step: 'export', fraction: 0 });
    const r = exportModel(model, new Map(), outDir, {
      format: params.format,
      ...(params.dtype ? { dtype: params.dtype } : {}),
    });
    for (const f of r.files)
      ctx.record.artifact({ path: f, kind: 'checkpoint', bytes: fs.statSync(f).size, sha256: sha256(f) });
    ctx.record.metric('paramsAfter', r.params);
    ctx.progress({ step: 'done', fraction: 1 });
    return { runId: ctx.runId, ...r };
  } finally {
    model.checkpoint.close();
  }
}
