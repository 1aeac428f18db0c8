// tokenize: the exact token ids perplexity evaluation uses (rows joined with "\n\n", tokenized once
// with the model's default special tokens), written as {"ids": [...]} (`moe-bench tokenize`).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolverFor } from '../io/resolver';
import { sourceTokens } from '../io/token-source';
import type { JobContext } from './job-context';
import type { TokenizeParams } from './tokenize.params';

export interface TokenizeResult {
  runId: number | null;
  tokens: number;
  out: string;
}

export async function run(ctx: JobContext, params: TokenizeParams): Promise<TokenizeResult> {
  const resolver = resolverFor(params);
  const modelDir = resolver.resolveModel(params.model, { needs: 'tokenizer.json' });
  ctx.progress({ step: 'tokenize', fraction: 0 });
  const src = await sourceTokens({ dataset: params.dataset, text: params.text }, resolver, modelDir);
  for (const [k, note] of src.notes.entries())
    ctx.progress({ step: k ? 'tokenized' : 'read', fraction: 0.5 + 0.4 * k, message: note });
  const out = resolver.resolvePath(params.out);
  const body = `{"ids":[${src.ids.join(',')}]}\n`;
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, body);
  fs.renameSync(tmp, out);
  ctx.record.metric('tokens', src.ids.length, { unit: 'tokens', headline: true });
  ctx.record.artifact({
    path: out,
    kind: 'token-ids',
    bytes: Buffer.byteLength(body),
    sha256: createHash('sha256').update(body).digest('hex'),
  });
  ctx.progress({ step: 'done', fraction: 1 });
  return { runId: ctx.runId, tokens: src.ids.length, out };
}
