// Training loop: seeded init and batch order, AdamW with warmup + cosine decay, global-norm clipping,
// Switch-style balance loss, a wall-clock budget, periodic f32 checkpoints (resumable) and bf16 HF export.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { registerEngineGradients } from '../../src-main/engine/grad/gradients';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { writeSafetensors } from '../../src-main/engine/io/safetensors-writer';
import { Mulberry32 } from '../../src-main/engine/linalg/prng';
import { tf } from '../../src-main/engine/tensor/backend';
import { softmaxCrossEntropy } from './fused-ops';
import type { TinyArch } from './tiny-arch';
import { type Dispatch, forward, initParams, paramShapes } from './tiny-moe-model';

export interface TrainSettings {
  seed: number;
  batch: number;
  seq: number;
  lr: number;
  minLrRatio: number;
  warmupSteps: number;
  /** fixed step count (fully reproducible schedule); otherwise estimated from the time budget */
  steps?: number;
  minutes: number;
  clip: number;
  auxCoef: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  checkpointEveryMin: number;
  logEvery: number;
  /** expert dispatch formulation (identical forward; 'sparse' is faster at top-k ≪ E) */
  dispatch: Dispatch;
}

export interface TrainState {
  step: number;
  totalSteps: number;
  rngState: number;
  elapsedSec: number;
  tokensSeen: number;
  lossEma: number | null;
  history: { step: number; loss: number; aux: number; lr: number; sec: number }[];
}

export function lrAt(s: TrainSettings, step: number, total: number): number {
  if (step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const p = Math.min(1, (step - s.warmupSteps) / Math.max(1, total - s.warmupSteps));
  const min = s.lr * s.minLrRatio;
  return min + 0.5 * (s.lr - min) * (1 + Math.cos(Math.PI * p));
}

/** B random windows of seq+1 tokens from the stream, drawn with the given PRNG. */
export function sampleBatch(
  tokens: Int32Array,
  B: number,
  L: number,
  rng: Mulberry32,
): { ids: Int32Array; labels: Int32Array } {
  const ids = new Int32Array(B * L);
  const labels = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    const s = rng.int(tokens.length - L - 1);
    ids.set(tokens.subarray(s, s + L), b * L);
    labels.set(tokens.subarray(s + 1, s + L + 1), b * L);
  }
  return { ids, labels };
}

const noDecay = (name: string): boolean => /(ln1|ln2|norm)$/.test(name);

export class TinyTrainer {
  readonly vars = new Map<string, tf.Variable>();
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  state: TrainState;

  constructor(
    readonly arch: TinyArch,
    readonly settings: TrainSettings,
    init?: { params: Map<string, Float32Array>; adam?: Map<string, Float32Array>; state?: TrainState },
  ) {
    registerEngineGradients();
    const params = init?.params ?? initParams(arch, settings.seed);
    for (const [name, shape] of paramShapes(arch)) {
      const data = params.get(name);
      if (!data) throw new Error(`missing parameter ${name}`);
      this.vars.set(name, tf.variable(tf.tensor(data, shape), true, `p/${name}`));
      const mm = init?.adam?.get(`m/${name}`);
      const vv = init?.adam?.get(`v/${name}`);
      this.m.set(name, tf.variable(mm ? tf.tensor(mm, shape) : tf.zeros(shape), false, `m/${name}`));
      this.v.set(name, tf.variable(vv ? tf.tensor(vv, shape) : tf.zeros(shape), false, `v/${name}`));
    }
    this.state = init?.state ?? {
      step: 0,
      totalSteps: settings.steps ?? 0,
      rngState: new Mulberry32(settings.seed ^ 0x9e3779b9).state,
      elapsedSec: 0,
      tokensSeen: 0,
      lossEma: null,
      history: [],
    };
  }

  /** One optimiser step. `minExpertShare[i]`: smallest expert share / uniform share in MoE layer i of this batch. */
  step(tokens: Int32Array): { loss: number; aux: number; lr: number; minExpertShare: number[] } {
    const s = this.settings;
    const rng = new Mulberry32(this.state.rngState);
    const { ids, labels } = sampleBatch(tokens, s.batch, s.seq, rng);
    this.state.rngState = rng.state;
    const lr = lrAt(s, this.state.step, Math.max(this.state.totalSteps, s.warmupSteps + 1));
    const names = [...this.vars.keys()];
    const varList = names.map((n) => this.vars.get(n)!);
    let lossVal = 0;
    let auxVal = 0;
    const minShare: number[] = [];
    tf.tidy(() => {
      const p = (n: string): tf.Tensor => this.vars.get(n)!;
      let lmLoss: tf.Tensor | null = null;
      let auxLoss: tf.Tensor | null = null;
      const { grads } = tf.variableGrads(() => {
        const out = forward(this.arch, p, ids, s.batch, s.seq, s.dispatch);
        for (const c of out.routed.values()) {
          const total = c.reduce((x, y) => x + y, 0);
          minShare.push(Math.min(...Array.from(c, (v) => (v * c.length) / total)));
        }
        const ce = softmaxCrossEntropy(out.logits, labels);
        lmLoss = tf.keep(tf.clone(ce));
        auxLoss = tf.keep(tf.clone(out.aux));
        return tf.add(ce, tf.mul(out.aux, s.auxCoef)) as tf.Scalar;
      }, varList);
      const kept = [lmLoss as unknown as tf.Tensor, auxLoss as unknown as tf.Tensor];
      lossVal = kept[0]!.dataSync()[0]!;
      auxVal = kept[1]!.dataSync()[0]!;
      for (const t of kept) t.dispose();
      const sq = names.map((n) => tf.sum(tf.square(grads[`p/${n}`]!)));
      const norm = Math.sqrt(tf.addN(sq).dataSync()[0]!);
      const clipScale = norm > s.clip ? s.clip / norm : 1;
      const t = this.state.step + 1;
      const bc1 = 1 - s.beta1 ** t;
      const bc2 = 1 - s.beta2 ** t;
      for (const n of names) {
        const g = tf.mul(grads[`p/${n}`]!, clipScale);
        const m = this.m.get(n)!;
        const v = this.v.get(n)!;
        const w = this.vars.get(n)!;
        const m2 = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
        const v2 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
        let upd = tf.div(tf.div(m2, bc1), tf.add(tf.sqrt(tf.div(v2, bc2)), 1e-8));
        if (s.weightDecay > 0 && !noDecay(n)) upd = tf.add(upd, tf.mul(w, s.weightDecay));
        m.assign(m2);
        v.assign(v2);
        w.assign(tf.sub(w, tf.mul(upd, lr)));
      }
    });
    this.state.step++;
    this.state.tokensSeen += s.batch * s.seq;
    this.state.lossEma = this.state.lossEma === null ? lossVal : 0.95 * this.state.lossEma + 0.05 * lossVal;
    return { loss: lossVal, aux: auxVal, lr, minExpertShare: minShare };
  }

  params(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [n, v] of this.vars) out.set(n, v.dataSync() as Float32Array);
    return out;
  }

  /** f32 training checkpoint (params + Adam moments + loop state), written atomically. */
  saveCheckpoint(dir: string): void {
    mkdirSync(dir, { recursive: true });
    const shapes = paramShapes(this.arch);
    const entries = [...shapes].flatMap(([n, shape]) => [
      {
        name: `p/${n}`,
        dtype: 'F32' as const,
        shape,
        data: () => this.vars.get(n)!.dataSync() as Float32Array,
      },
      { name: `m/${n}`, dtype: 'F32' as const, shape, data: () => this.m.get(n)!.dataSync() as Float32Array },
      { name: `v/${n}`, dtype: 'F32' as const, shape, data: () => this.v.get(n)!.dataSync() as Float32Array },
    ]);
    writeSafetensors(path.join(dir, 'train-state.safetensors'), entries);
    const tmp = path.join(dir, 'train-state.json.tmp');
    writeFileSync(
      tmp,
      JSON.stringify({ arch: this.arch, settings: this.settings, state: this.state }, null, 1),
    );
    renameSync(tmp, path.join(dir, 'train-state.json'));
  }

  static loadCheckpoint(dir: string, arch: TinyArch, settings: TrainSettings): TinyTrainer | null {
    const json = path.join(dir, 'train-state.json');
    if (!existsSync(json)) return null;
    const saved = JSON.parse(readFileSync(json, 'utf8')) as { arch: TinyArch; state: TrainState };
    if (JSON.stringify(saved.arch) !== JSON.stringify(arch)) {
      throw new Error(
        `${json}: checkpoint architecture differs from the requested one; use a fresh --ckpt-dir`,
      );
    }
    const f = SafetensorsFile.open(path.join(dir, 'train-state.safetensors'));
    try {
      const params = new Map<string, Float32Array>();
      const adam = new Map<string, Float32Array>();
      for (const n of paramShapes(arch).keys()) {
        params.set(n, f.readF32(`p/${n}`));
        adam.set(`m/${n}`, f.readF32(`m/${n}`));
        adam.set(`v/${n}`, f.readF32(`v/${n}`));
      }
      return new TinyTrainer(arch, settings, { params, adam, state: saved.state });
    } finally {
      f.close();
    }
  }

  dispose(): void {
    for (const m of [this.vars, this.m, this.v]) for (const t of m.values()) t.dispose();
  }
}
