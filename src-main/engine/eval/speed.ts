// Speed & size (METHODS §8.3): greedy generation with a KV cache from random prompts of fixed
// length (Unified's measure_speed.py: random ids, greedy, fixed lengths), after one untimed warm-up
// generation (the wasm kernels' first-call setup would otherwise land in the prefill time).
//   prefill tokens/s = batch·promptLen / prefill time
//   decode tokens/s  = batch / median(per-step decode time)  (genLen − 1 steps after the prefill)
// The backend is synchronous from JS (every step reads its logits back), so each timed region ends
// with its results on the host. Memory: peak tensor bytes sampled at every layer boundary and
// router call of the timed run (tf.memory(): weights, cache and live activations), peak RSS of the
// process. FLOPs per token from the shapes and the routing measured on the timed run's tokens.
import { EngineError } from '../errors';
import { xoshiro128ss } from '../linalg/prng';
import { Decoder, greedy } from '../model/decoder';
import type { LoadedModel } from '../model/model';
import type { LayerObserver, LayerOverride } from '../model/types';
import { activeBackend, tf } from '../tensor/backend';
import { type FlopsReport, flopsPerToken, type LayerRouting, layerCost } from './flops';
import { peakRssBytes } from './perplexity';
import type { SpeedSettings } from './speed.params';

export interface SpeedResult {
  promptLen: number;
  genLen: number;
  batch: number;
  prefillSeconds: number;
  prefillTokensPerSecond: number;
  /** batch / median step time */
  decodeTokensPerSecond: number;
  /** batch·(genLen−1) / total decode time */
  decodeMeanTokensPerSecond: number;
  decodeSeconds: number;
  peakTensorBytes: number;
  peakRssBytes: number;
  kvCacheBytes: number;
  flops: FlopsReport;
  backend: string;
}

export interface SpeedOptions {
  overrides?: ReadonlyMap<number, LayerOverride>;
  signal?: AbortSignal;
  /** untimed warm-up generation first (default true) */
  warmup?: boolean;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Seeded random prompt ids in [0, vocab). */
export function randomPrompts(batch: number, len: number, vocab: number, seed: number): number[][] {
  const rng = xoshiro128ss(seed);
  return Array.from({ length: batch }, () => Array.from({ length: len }, () => rng.int(vocab)));
}

export async function measureSpeed(
  model: LoadedModel,
  settings: SpeedSettings,
  opts: SpeedOptions = {},
): Promise<SpeedResult> {
  const { promptLen: P, genLen: G, batch: B } = settings;
  if (G < 2)
    throw new EngineError(`genLen must be at least 2 (one prefill token, one decode step), got ${G}`, {
      field: 'genLen',
    });
  const prompts = randomPrompts(B, P, model.spec.vocab, settings.seed);
  const routing = new Map<number, LayerRouting>();
  let counting = false;
  let peakTensor = 0;
  const sample = () => {
    peakTensor = Math.max(peakTensor, tf.memory().numBytes);
  };
  const observer: LayerObserver = {
    onLayerInput: sample,
    onLayerOutput: sample,
    onRouter: (e) => {
      sample();
      if (!counting) return;
      const N = e.probs.shape[1];
      let r = routing.get(e.layer);
      if (!r) {
        r = { tokens: 0, pairs: new Array<number>(N).fill(0) };
        routing.set(e.layer, r);
      }
      r.tokens += e.experts.length / e.topK;
      for (const x of e.experts) r.pairs[x]! += 1;
    },
  };
  const dec = new Decoder(model, {
    observer,
    ...(opts.overrides ? { overrides: opts.overrides } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  try {
    if (opts.warmup !== false) {
      await greedy(dec, randomPrompts(B, Math.min(P, 8), model.spec.vocab, settings.seed + 1), 2);
      dec.reset();
    }
    peakTensor = 0;
    counting = true;
    const t = await greedy(dec, prompts, G, sample);
    counting = false;
    const kvCacheBytes = dec.cache.bytes();
    const costs = dec.layers.map((r) => layerCost(r, model.spec));
    const flops = flopsPerToken(
      costs,
      routing,
      { hidden: model.spec.hidden, vocab: model.spec.vocab },
      P + G - 1,
    );
    const decodeSeconds = t.stepSeconds.reduce((s, x) => s + x, 0);
    return {
      promptLen: P,
      genLen: G,
      batch: B,
      prefillSeconds: t.prefillSeconds,
      prefillTokensPerSecond: (B * P) / t.prefillSeconds,
      decodeTokensPerSecond: B / median(t.stepSeconds),
      decodeMeanTokensPerSecond: (B * t.stepSeconds.length) / decodeSeconds,
      decodeSeconds,
      peakTensorBytes: peakTensor,
      peakRssBytes: peakRssBytes(),
      kvCacheBytes,
      flops,
      backend: activeBackend()?.active ?? tf.getBackend(),
    };
  } finally {
    dec.dispose();
  }
}
