// Token id files: {"ids": [int, ...]} (what `moe-bench tokenize` writes) or a bare JSON array.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';

export function readTokenIds(file: string): number[] {
  const abs = path.resolve(file);
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new EngineError(`cannot read token ids: ${(e as Error).message.split('\n')[0]}`, {
      file: abs,
      cause: e,
    });
  }
  const ids = Array.isArray(data) ? data : (data as { ids?: unknown } | null)?.ids;
  if (!Array.isArray(ids))
    throw new EngineError('expected {"ids": [int, ...]} or a JSON array of ints', {
      file: abs,
      field: 'ids',
    });
  const bad = ids.findIndex((v) => !Number.isInteger(v) || (v as number) < 0);
  if (bad >= 0)
    throw new EngineError(`ids[${bad}] = ${JSON.stringify(ids[bad])} is not a non-negative integer`, {
      file: abs,
      field: 'ids',
    });
  return ids as number[];
}
