// Train one embedded default model: `npm run train:tiny -- --model tiny-mixtral [--minutes 40] [--steps N]`.
// Trains the byte-level BPE (deterministic), trains the model on c4-train.txt within a time budget,
// checkpoints periodically, exports the HF layout (bf16) and evaluates the saved weights on held-out text.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { initBackend } from '../src-main/engine/tensor/backend';
import { BpeEncoder } from './train/bpe-encoder';
import { trainBpe } from './train/bpe-trainer';
import { writeHfConfigs, writeHfModel } from './train/hf-export';
import { importHfParams } from './train/hf-import';
import { BOS, SPECIAL_TOKENS, writeTokenizerFiles } from './train/hf-tokenizer-files';
import { modelCard } from './train/model-card';
import { isMoeLayer } from './train/tiny-arch';
import {
  evalWindows,
  expertUtilisation,
  perplexity,
  scoredLabels,
  unigramPerplexity,
} from './train/tiny-eval';
import { paramShapes } from './train/tiny-moe-model';
import { DEFAULT_TRAIN, parameterCount, TINY_ARCHS, TINY_VOCAB } from './train/tiny-presets';
import { TinyTrainer, type TrainSettings } from './train/trainer';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const program = new Command()
  .requiredOption('--model <name>', `one of ${Object.keys(TINY_ARCHS).join(', ')}`)
  .option(
    '--minutes <m>',
    'training wall-clock budget (excludes the final evaluation)',
    String(DEFAULT_TRAIN.minutes),
  )
  .option(
    '--steps <n>',
    'fixed number of steps (exactly reproducible schedule); default: estimated from --minutes',
  )
  .option('--seed <n>', 'seed for init and batch order', String(DEFAULT_TRAIN.seed))
  .option('--out <dir>', 'output model folder (default resources/models/<model>)')
  .option('--ckpt-dir <dir>', 'training-state folder (default out/train/<model>)')
  .option('--resume', 'continue from the training state in --ckpt-dir', false)
  .option(
    '--eval-only',
    'skip training: re-evaluate the exported model, rewrite configs, card and summary',
    false,
  )
  .option('--train-text <file>', 'training text', '/work/shared/data/train-text/c4/c4-train.txt')
  .option('--heldout-text <file>', 'held-out text', '/work/shared/data/train-text/c4/c4-heldout.txt')
  .option('--eval-windows <n>', 'held-out windows of 512 for the final evaluation (0 = all)', '128')
  .option('--backend <name>', 'tfjs backend', 'wasm')
  .option(
    '--dispatch <kind>',
    "expert dispatch: 'dense' (fastest on wasm here) or 'sparse'",
    DEFAULT_TRAIN.dispatch,
  )
  .option('--aux-coef <x>', 'load-balancing loss coefficient', String(DEFAULT_TRAIN.auxCoef));
program.parse(process.argv.filter((a) => a !== '--'));
const o = program.opts();

const log = (msg: string): void => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const name = String(o.model);
const arch = TINY_ARCHS[name];
if (!arch)
  throw new Error(`--model: unknown model '${name}'; expected one of ${Object.keys(TINY_ARCHS).join(', ')}`);
const outDir = path.resolve(o.out ?? path.join(root, 'resources/models', name));
const ckptDir = path.resolve(o.ckptDir ?? path.join(root, 'out/train', name));
const settings: TrainSettings = {
  ...DEFAULT_TRAIN,
  seed: Number(o.seed),
  auxCoef: Number(o.auxCoef),
  dispatch: o.dispatch === 'sparse' ? 'sparse' : 'dense',
  minutes: Number(o.minutes),
  ...(o.steps ? { steps: Number(o.steps) } : {}),
};
const EVAL_SEQ = 512;

const backend = await initBackend({ force: o.backend });
log(`backend ${backend.active}; model ${name} → ${outDir}`);

const trainText = readFileSync(o.trainText, 'utf8');
const heldText = readFileSync(o.heldoutText, 'utf8');
let t0 = performance.now();
const bpe = trainBpe(trainText, { vocabSize: TINY_VOCAB, specialTokens: [...SPECIAL_TOKENS] });
const enc = new BpeEncoder(bpe);
const trainTokens = Int32Array.from(enc.encode(trainText));
const bos = enc.idOfToken(BOS);
const heldTokens = Int32Array.from([bos, ...enc.encode(heldText)]);
log(
  `tokenizer: ${bpe.vocab.length} tokens, ${bpe.merges.length} merges; train ${trainTokens.length} tokens, held-out ${heldTokens.length} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
);
mkdirSync(outDir, { recursive: true });
writeTokenizerFiles(outDir, bpe, arch.maxPositions);

const shapes = paramShapes(arch);
const total = parameterCount(shapes);
let inactive = 0;
for (let l = 0; l < arch.layers; l++) {
  if (isMoeLayer(arch, l)) inactive += (arch.experts - arch.topK) * 3 * arch.hidden * arch.moeIntermediate;
}
log(`parameters: ${total} total, ${total - inactive} active per token`);

let trainer = o.resume || o.evalOnly ? TinyTrainer.loadCheckpoint(ckptDir, arch, settings) : null;
if (o.evalOnly && !trainer) throw new Error(`--eval-only: no training state in ${ckptDir}`);
if (trainer) log(`resumed at step ${trainer.state.step}/${trainer.state.totalSteps}`);
trainer ??= new TinyTrainer(arch, settings);
const st = trainer.state;

const exportModel = (): void => {
  const params = trainer.params();
  writeHfModel(outDir, arch, (n) => params.get(n)!, {
    metadata: { producer: 'moe-workbench train-tiny', step: String(st.step) },
    auxCoef: settings.auxCoef,
  });
};

const budgetSec = settings.minutes * 60;
const startElapsed = st.elapsedSec;
const t1 = performance.now();
let lastCkpt = performance.now();
let afterFirst = 0;
let markSec = 0;
const elapsed = (): number => startElapsed + (performance.now() - t1) / 1000;
while (
  !o.evalOnly &&
  (st.totalSteps === 0 || st.step < st.totalSteps || (!settings.steps && st.elapsedSec < budgetSec - 30))
) {
  const r = trainer.step(trainTokens);
  st.elapsedSec = elapsed();
  if (st.step === 1) afterFirst = st.elapsedSec;
  if (
    !settings.steps &&
    (st.step === 6 || (st.step > 6 && st.step % 25 === 0 && st.elapsedSec < 0.9 * budgetSec))
  ) {
    // Time-budgeted schedule: the cosine length is re-estimated from the recent step time (other jobs share
    // the cores, so speed drifts). Each estimate is logged; --steps N replays a fixed schedule exactly.
    const span = st.step === 6 ? 5 : 25;
    const perStep = (st.elapsedSec - (st.step === 6 ? afterFirst : markSec)) / span;
    st.totalSteps = Math.max(
      settings.warmupSteps + 10,
      st.step + Math.floor((budgetSec - st.elapsedSec) / perStep),
    );
    log(`step time ${perStep.toFixed(2)} s → schedule of ${st.totalSteps} steps`);
  }
  if (st.step % 25 === 0 || st.step === 6) markSec = st.elapsedSec;
  if (st.step % settings.logEvery === 0 || st.step === 1) {
    st.history.push({ step: st.step, loss: r.loss, aux: r.aux, lr: r.lr, sec: st.elapsedSec });
    log(
      `step ${st.step}/${st.totalSteps} loss ${r.loss.toFixed(4)} ema ${st.lossEma?.toFixed(4)} aux ${r.aux.toFixed(3)} min-expert/uniform [${r.minExpertShare.map((v) => v.toFixed(2)).join(' ')}] lr ${r.lr.toExponential(2)} ${Math.round(st.tokensSeen / st.elapsedSec)} tok/s`,
    );
  }
  if ((performance.now() - lastCkpt) / 60000 >= settings.checkpointEveryMin) {
    trainer.saveCheckpoint(ckptDir);
    exportModel();
    lastCkpt = performance.now();
    log(`checkpoint at step ${st.step} → ${ckptDir}, model → ${outDir}`);
  }
  if (st.elapsedSec >= budgetSec && !settings.steps) {
    log(`time budget reached at step ${st.step}`);
    break;
  }
}
if (o.evalOnly) {
  writeHfConfigs(outDir, arch, settings.auxCoef);
} else {
  trainer.saveCheckpoint(ckptDir);
  exportModel();
}
const tokensPerSec = st.tokensSeen / st.elapsedSec;
log(
  `training done: ${st.step} steps, ${(st.elapsedSec / 60).toFixed(1)} min, ${Math.round(tokensPerSec)} tok/s`,
);
trainer.dispose();

// Evaluate what was saved: bf16 weights read back and upcast.
t0 = performance.now();
const saved = importHfParams(path.join(outDir, 'model.safetensors'), arch);
const windows = evalWindows(
  heldTokens,
  EVAL_SEQ,
  Number(o.evalWindows) > 0 ? Number(o.evalWindows) : undefined,
);
const ev = perplexity(arch, saved, shapes, heldTokens, EVAL_SEQ, { maxWindows: windows });
const uni = unigramPerplexity(trainTokens, arch.vocab, scoredLabels(heldTokens, EVAL_SEQ, windows));
const util = expertUtilisation(ev.routed);
log(
  `held-out ppl ${ev.ppl.toFixed(2)} over ${ev.tokens} tokens; unigram ${uni.ppl.toFixed(2)}; ratio ${(ev.ppl / uni.ppl).toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
);
for (const u of util)
  log(`layer ${u.layer} expert share min/uniform ${u.minOfUniform.toFixed(2)} dead [${u.dead.join(',')}]`);

const card = modelCard({
  name,
  arch,
  settings,
  state: st,
  params: { total, activePerToken: total - inactive },
  tokenizer: {
    vocab: bpe.vocab.length,
    merges: bpe.merges.length,
    trainTokens: trainTokens.length,
    heldoutTokens: heldTokens.length,
    charsPerToken: trainText.length / trainTokens.length,
  },
  backend: backend.active,
  tokensPerSec,
  eval: { seq: EVAL_SEQ, windows, tokens: ev.tokens, ppl: ev.ppl, unigramPpl: uni.ppl },
  utilisation: util,
});
writeFileSync(path.join(outDir, 'README.md'), card);
const summary = {
  model: name,
  steps: st.step,
  tokensSeen: st.tokensSeen,
  minutes: st.elapsedSec / 60,
  tokensPerSec,
  finalLossEma: st.lossEma,
  heldout: {
    seq: EVAL_SEQ,
    windows,
    tokens: ev.tokens,
    ppl: ev.ppl,
    unigramPpl: uni.ppl,
    ratio: ev.ppl / uni.ppl,
  },
  utilisation: util.map((u) => ({ layer: u.layer, minOfUniform: u.minOfUniform, dead: u.dead })),
  passes: ev.ppl <= uni.ppl / 2 && util.every((u) => u.dead.length === 0),
};
writeFileSync(path.join(ckptDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
log(`summary: ${JSON.stringify(summary)}`);
if (!existsSync(path.join(outDir, 'README.md'))) process.exitCode = 1;
