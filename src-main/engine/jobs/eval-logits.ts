// eval.logits: the full next-token logits of one token sequence, written as
// {"shape":[T,V],"logits":[...]} (non-finite values as null), for parity checks against
// transformers (`moe-bench logits` / `eval logits` run it). The file is the run's artifact.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readTokenIds } from '../eval/token-ids';
import { resolverFor } from '../io/resolver';
import { sequenceLogits } from '../model/logits';
import { openModel } from '../model/model';
import type { EvalLogitsParams } from './eval-logits.params';
import type { JobContext } from './job-context';

export interface EvalLogitsResult {
  runId: number | null;
  model: string;
  out: string;
  shape: [number, number];
}

export async function run(ctx: JobContext, params: EvalLogitsParams): Promise<EvalLogitsResult> {
  const resolver = resolverFor(params);
  const modelDir = resolver.resolveModel(params.model);
  const ids = readTokenIds(resolver.resolveFile(params.tokenIds, 'tokenIds'));
  const out = resolver.resolvePath(params.out);
  const model = openModel(modelDir);
  try {
    const t0 = performance.now();
    const logits = await sequenceLogits(model, ids, {
      onLayerDone: (l, n) => {
        ctx.throwIfCancelled();
        ctx.progress({ step: 'logits', layer: l, layers: n, fraction: (0.9 * (l + 1)) / n });
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const V = model.spec.vocab;
    const shape: [number, number] = [ids.length, V];
    ctx.progress({ step: 'write', fraction: 0.9 });
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    const hash = createHash('sha256');
    const fd = fs.openSync(tmp, 'w');
    const write = (s: string) => {
      fs.writeSync(fd, s);
      hash.update(s);
    };
    try {
      write(`{"shape":[${shape.join(',')}],"logits":[`);
      for (let t = 0; t < ids.length; t++) {
        const row = Array.from(logits.subarray(t * V, (t + 1) * V), (v) =>
          Number.isFinite(v) ? String(v) : 'null',
        );
        write((t ? ',' : '') + row.join(','));
      }
      write(']}\n');
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, out);
    ctx.record.metric('evalTokens', ids.length);
    ctx.record.metric('tokensPerSecond', ids.length / seconds, { headline: true });
    ctx.record.artifact({
      path: out,
      kind: 'logits',
      bytes: fs.statSync(out).size,
      sha256: hash.digest('hex'),
    });
    ctx.progress({ step: 'done', fraction: 1 });
    return { runId: ctx.runId, model: modelDir, out, shape };
  } finally {
    model.checkpoint.close();
  }
}
