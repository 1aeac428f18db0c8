// README.md model card for the embedded tiny models.

import type { TinyArch } from './tiny-arch';
import type { ExpertUtilisation } from './tiny-eval';
import type { TrainSettings, TrainState } from './trainer';

export interface CardInput {
  name: string;
  arch: TinyArch;
  settings: TrainSettings;
  state: TrainState;
  params: { total: number; activePerToken: number };
  tokenizer: {
    vocab: number;
    merges: number;
    trainTokens: number;
    heldoutTokens: number;
    charsPerToken: number;
  };
  backend: string;
  tokensPerSec: number;
  eval: { seq: number; windows: number; tokens: number; ppl: number; unigramPpl: number } | null;
  utilisation: ExpertUtilisation[];
}

const f = (x: number, d = 2): string => x.toFixed(d);

export function modelCard(c: CardInput): string {
  const a = c.arch;
  const mix = a.family === 'mixtral';
  const last = c.state.history.at(-1);
  const archRows = [
    [
      'architecture',
      mix
        ? '`MixtralForCausalLM` (model_type `mixtral`)'
        : '`DeepseekForCausalLM` (model_type `deepseek`, DeepSeek-MoE v1 remote-code layout)',
    ],
    ['layers / hidden / heads / kv heads', `${a.layers} / ${a.hidden} / ${a.heads} / ${a.kvHeads}`],
    [
      'routed experts / top-k',
      `${a.experts} / ${a.topK} (${a.normTopK ? 'top-k weights renormalised' : 'norm_topk_prob=false: no renormalisation'})`,
    ],
    ['expert intermediate', `${a.moeIntermediate}`],
    ...(mix
      ? []
      : [
          [
            'shared experts',
            `${a.sharedExperts} (intermediate ${a.sharedExperts * a.moeIntermediate}, always on)`,
          ],
          ['dense layers', `first ${a.firstKDense} (intermediate ${a.denseIntermediate})`],
        ]),
    ['vocab', `${a.vocab} (byte-level BPE trained on the training text)`],
    ['RoPE theta / RMSNorm eps', `${a.ropeTheta} / ${a.rmsEps}`],
    ['embeddings', 'untied (`lm_head.weight` stored)'],
    [
      'parameters',
      `${(c.params.total / 1e6).toFixed(2)} M total, ${(c.params.activePerToken / 1e6).toFixed(2)} M active per token`,
    ],
    ['weights', '`model.safetensors`, bfloat16'],
  ];
  const util = c.utilisation
    .map(
      (u) =>
        `| ${u.layer} | ${u.shares.map((s) => f(100 * s, 1)).join(' / ')} | ${f(u.minOfUniform)} | ${u.dead.length === 0 ? 'none' : u.dead.join(', ')} |`,
    )
    .join('\n');
  const s = c.settings;
  return `---
license: odc-by
language: en
tags: [moe, tiny, test-model, moe-workbench]
---

# ${c.name}

A deliberately tiny ${mix ? 'Mixtral' : 'DeepSeek-MoE (v1)'}-layout Mixture-of-Experts language model trained from scratch by
MoE Workbench, so that expert pruning/merging/decomposition can be tried on a real (trained, not random) MoE
model offline. It is far too small to be useful for anything else.

## Architecture

| | |
|---|---|
${archRows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}

## Training data

\`c4-train.txt\`: 2,672 English documents of the C4 validation split (allenai/c4, en), ${(c.tokenizer.trainTokens / 1e6).toFixed(2)} M tokens
with this tokenizer (${f(c.tokenizer.charsPerToken)} chars/token). Held-out: every 10th document (\`c4-heldout.txt\`, ${c.tokenizer.heldoutTokens.toLocaleString('en-US')} tokens), never trained on.
No evaluation test split (WikiText-2, PTB, multiple-choice sets) was used.

Licence and attribution: C4 is released by AllenAI under **ODC-BY 1.0**; use is also subject to the **Common Crawl terms of use**.
The documents were obtained from public repository snapshots (DaizeDong/Unified-MoE-Compression \`c82808b\`, yxanul/yxanul_0.6B \`d3ef060\`);
see \`resources/data/README.md\`.

## Training

| | |
|---|---|
| objective | next-token cross-entropy + ${s.auxCoef} × Switch/Mixtral load-balancing loss (summed over MoE layers) |
| optimiser | AdamW (β ${s.beta1}/${s.beta2}, weight decay ${s.weightDecay}), peak lr ${s.lr}, ${s.warmupSteps} warmup steps, cosine to ${s.minLrRatio}× |
| batch | ${s.batch} × ${s.seq} tokens, windows drawn with a seeded PRNG (seed ${s.seed}) |
| gradient clipping | global norm ${s.clip} |
| steps / tokens | ${c.state.step} / ${c.state.tokensSeen.toLocaleString('en-US')} |
| wall time | ${f(c.state.elapsedSec / 60, 1)} min on one CPU core, tfjs ${c.backend} backend (${Math.round(c.tokensPerSec)} tokens/s) |
| final training loss (EMA) | ${c.state.lossEma === null ? 'n/a' : f(c.state.lossEma, 3)}${last ? ` (last step ${f(last.loss, 3)}, balance loss ${f(last.aux, 3)})` : ''} |

Re-run: \`npm run train:tiny -- --model ${c.name}\` (time-budgeted: the cosine length is re-estimated from the measured
step time, which depends on machine load, and each estimate is logged). \`--steps ${c.state.step}\` replays a fixed
${c.state.step}-step cosine schedule with the same seed and batch order, bit-for-bit reproducible.

## Evaluation

${
  c.eval
    ? `| metric | value |
|---|---|
| held-out C4 token perplexity (${c.eval.windows} non-overlapping windows of ${c.eval.seq}, ${c.eval.tokens.toLocaleString('en-US')} scored tokens, bf16 weights upcast to f32) | **${f(c.eval.ppl)}** |
| unigram baseline (training-token frequencies, add-one) on the same tokens | ${f(c.eval.unigramPpl)} |
| ratio model / unigram | ${f(c.eval.ppl / c.eval.unigramPpl, 3)} |
| WikiText-2 (raw, test) perplexity | to be filled by the engine's evaluator |`
    : 'Not evaluated yet.'
}

### Routed-expert utilisation on held-out text

Share of routed (top-${a.topK}) token assignments per expert, in %; uniform = ${f(100 / a.experts, 2)} %.
"min / uniform" is the smallest expert's share divided by the uniform share (dead expert: < 0.25).

| layer | shares (expert 0 … ${a.experts - 1}) | min / uniform | dead |
|---|---|---|---|
${util}
`;
}
