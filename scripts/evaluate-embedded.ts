// `npm run eval:embedded`: evaluates the built-in models through the engine's own perplexity path
// (the code `moe-bench eval ppl` runs) and rewrites the Evaluation section of each model card with the
// numbers and the exact commands that reproduce them. Expert utilisation is recounted on the held-out
// text with the executor's router hook; the trainer's utilisation table is kept as it is.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { perplexity } from '../src-main/engine/eval/perplexity';
import { joinForPerplexity, loadDatasetRows, resolveDataset } from '../src-main/engine/io/datasets';
import { loadTokenizer } from '../src-main/engine/io/tokenizer';
import { openModel } from '../src-main/engine/model/model';
import type { LayerObserver } from '../src-main/engine/model/types';
import { initBackend } from '../src-main/engine/tensor/backend';
import { unigramPerplexity } from './train/tiny-eval';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SEQ = 512;

const o = new Command()
  .option('--models <list>', 'comma-separated built-in models', 'tiny-mixtral,tiny-deepseek')
  .option('--wikitext-windows <k>', 'WikiText-2 windows of 512 (0 = all)', '128')
  .option(
    '--train-text <file>',
    'training text (unigram baseline)',
    path.resolve(root, '../shared/data/train-text/c4/c4-train.txt'),
  )
  .option('--batch <b>', 'windows per forward batch (speed only; the numbers do not depend on it)', '16')
  .option('--no-write', 'print only; leave the model cards as they are')
  .parse()
  .opts<{ models: string; wikitextWindows: string; trainText: string; batch: string; write: boolean }>();

/** Tokens `perplexity` scores: positions 1..L-1 of each non-overlapping window (METHODS §8.1). */
function engineScoredTokens(ids: number[], L: number, windows: number): Int32Array {
  const out = new Int32Array(windows * (L - 1));
  for (let w = 0; w < windows; w++) out.set(ids.slice(w * L + 1, (w + 1) * L), w * (L - 1));
  return out;
}

async function datasetIds(modelDir: string, name: string): Promise<number[]> {
  const tok = await loadTokenizer(modelDir);
  return tok.encode(joinForPerplexity(await loadDatasetRows(resolveDataset(name))));
}

await initBackend();
const wtWindows = Number(o.wikitextWindows);
const trainText = fs.readFileSync(o.trainText, 'utf8');
for (const name of o.models.split(',')) {
  const rel = `resources/models/${name}`;
  const dir = path.join(root, rel);
  const model = openModel(dir);
  const counts = new Map<number, Float64Array>();
  const observer: LayerObserver = {
    onRouter: (e) => {
      let c = counts.get(e.layer);
      if (!c) {
        c = new Float64Array(e.logits.shape[1]);
        counts.set(e.layer, c);
      }
      for (const x of e.experts) c[x]! += 1;
    },
  };
  const held = await datasetIds(dir, 'heldout');
  const h = await perplexity(model, held, { seqLen: SEQ, batch: Number(o.batch), observer });
  const wt = await datasetIds(dir, 'wikitext2');
  const w = await perplexity(model, wt, {
    seqLen: SEQ,
    batch: Number(o.batch),
    ...(wtWindows > 0 ? { maxWindows: wtWindows } : {}),
  });
  model.checkpoint.close();

  const tok = await loadTokenizer(dir);
  const train = Int32Array.from(tok.encode(trainText, { addSpecialTokens: false }));
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).vocab_size as number;
  const uni = unigramPerplexity(train, vocab, engineScoredTokens(held, SEQ, h.windows));
  const minShare = Math.min(
    ...[...counts.values()].map((c) => {
      const total = c.reduce((s, v) => s + v, 0);
      return Math.min(...c) / (total / c.length);
    }),
  );
  const wtAll = Math.floor(wt.length / SEQ);
  const wtFlag = wtWindows > 0 && wtWindows < wtAll ? ` --max-windows ${wtWindows}` : '';
  const summary = {
    model: name,
    heldout: { ppl: h.ppl, tokens: h.tokens, windows: h.windows, seconds: h.seconds },
    unigram: uni.ppl,
    ratio: h.ppl / uni.ppl,
    wikitext2: { ppl: w.ppl, tokens: w.tokens, windows: w.windows, of: wtAll, seconds: w.seconds },
    minExpertShareOfUniform: minShare,
    layers: [...counts.keys()].sort((a, b) => a - b),
  };
  console.log(JSON.stringify(summary));
  if (!o.write) continue;

  const section = `## Evaluation

Computed by the engine (\`npm run eval:embedded\`, the \`moe-bench eval ppl\` code path: texts tokenized
once with BOS, non-overlapping windows of ${SEQ} tokens, tail dropped, positions 1…${SEQ - 1} of each window scored,
bf16 weights upcast to f32, wasm backend).

| metric | value |
|---|---|
| held-out C4 token perplexity (\`heldout\`, ${h.windows} windows of ${SEQ}, ${h.tokens.toLocaleString('en-US')} scored tokens) | **${h.ppl.toFixed(2)}** |
| unigram baseline (training-token frequencies, add-one) on exactly those tokens | ${uni.ppl.toFixed(2)} |
| ratio model / unigram | ${(h.ppl / uni.ppl).toFixed(3)} |
| WikiText-2 raw test perplexity (\`wikitext2\`, first ${w.windows} of ${wtAll} windows of ${SEQ}, ${w.tokens.toLocaleString('en-US')} scored tokens) | **${w.ppl.toFixed(2)}** |
| smallest routed-expert share / uniform share on held-out (all MoE layers, engine router hook) | ${minShare.toFixed(2)} |

Reproduce:

\`\`\`sh
moe-bench eval ppl --model ${rel} --dataset heldout --seq-len ${SEQ} --batch ${o.batch} --json
moe-bench eval ppl --model ${rel} --dataset wikitext2 --seq-len ${SEQ}${wtFlag} --batch ${o.batch} --json
\`\`\`

`;
  const card = path.join(dir, 'README.md');
  const text = fs.readFileSync(card, 'utf8');
  const start = text.indexOf('## Evaluation');
  const end = text.indexOf('### Routed-expert utilisation');
  if (start < 0 || end < start)
    throw new Error(`${card}: no "## Evaluation" … "### Routed-expert utilisation" span`);
  fs.writeFileSync(card, text.slice(0, start) + section + text.slice(end));
}
