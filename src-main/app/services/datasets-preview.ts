// User data sets (`datasets.add`) and what a data set holds (`datasets.preview`): its first rows and
// its size in tokens under a chosen model's tokenizer. The engine's dataset reader decides the row
// semantics, so the preview counts exactly what calibration and evaluation would read.
import fs from 'node:fs';
import path from 'node:path';
import { fileFormat, SUPPORTED_FILE_TYPES } from '../../engine/io/dataset-builtins';
import { createResolver } from '../../engine/io/resolver';
import { ApiError, notFound } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

const PREVIEW_CHARS = 400;
/** rows encoded between yields, so a long count never stalls the main process */
const ROWS_PER_SLICE = 200;

const tokenCounts = new Map<string, number>();

export function datasetPreviewHandlers(
  ctx: ServiceContext,
): Pick<Handlers, 'datasets.add' | 'datasets.preview'> {
  const datasets = ctx.store.datasets;
  return {
    'datasets.add': async ({ path: given, name }) => {
      // links resolved (the store keeps the file actually read), confined to the allowed roots for clients
      const file = ctx.paths.readPath(given, 'path');
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        throw new ApiError('bad_request', `data file '${file}' does not exist`);
      }
      if (!stat.isFile()) throw new ApiError('bad_request', `'${file}' is not a file`);
      const format = fileFormat(file)?.stored;
      if (!format)
        throw new ApiError(
          'bad_request',
          `'${path.basename(file)}': unsupported data file type; expected ${SUPPORTED_FILE_TYPES}`,
        );
      if (datasets.list().some((d) => d.path === file))
        throw new ApiError('conflict', `data file '${file}' is already in the store`);
      return datasets.add({ name: name ?? path.basename(file), path: file, format });
    },

    'datasets.preview': async ({ id, modelId, lines }) => {
      const record = datasets.get(id);
      if (!record) throw notFound('dataset', id);
      const model = modelId === undefined ? null : ctx.store.models.get(modelId);
      if (modelId !== undefined && !model) throw notFound('model', modelId);
      const { loadDatasetRows } = await import('../../engine/io/datasets');
      // a built-in by name, so it reads with its row format, exactly as calibration and evaluation do
      const resolver = createResolver({ baseDir: process.cwd(), ...ctx.roots });
      const ref = resolver.resolveDataset(
        record.builtin || record.format === 'builtin' ? record.name : record.path,
      );
      const rows = await loadDatasetRows(ref);
      const shown = rows
        .filter((r) => r.trim() !== '')
        .slice(0, lines ?? 8)
        .map((r) => (r.length > PREVIEW_CHARS ? `${r.slice(0, PREVIEW_CHARS)}…` : r.replace(/\n$/, '')));
      let tokens: number | null = null;
      if (model) {
        const key = `${ref.path}\u0000${model.path}`;
        tokens = tokenCounts.get(key) ?? null;
        if (tokens === null) {
          const { loadTokenizer } = await import('../../engine/io/tokenizer');
          const tok = await loadTokenizer(model.path);
          tokens = 0;
          for (let i = 0; i < rows.length; i += ROWS_PER_SLICE) {
            for (const r of rows.slice(i, i + ROWS_PER_SLICE))
              if (r) tokens += tok.encode(r, { addSpecialTokens: false }).length;
            await new Promise((resolve) => setImmediate(resolve));
          }
          tokenCounts.set(key, tokens);
        }
      }
      return {
        datasetId: id,
        path: ref.path,
        rows: rows.length,
        chars: rows.reduce((n, r) => n + r.length, 0),
        lines: shown,
        tokens,
        tokenizerModel: model?.name ?? null,
      };
    },
  };
}
