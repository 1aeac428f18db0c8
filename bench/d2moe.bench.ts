// D²-MoE execution speed (METHODS §3.3, §3.5), one MoE block on a token chunk, all in this process:
// the shared gate/up base applied once per chunk (`W_b1 x`, `W_b3 x` for all experts, each expert
// gathers its rows and adds A(Bx)) against the naive path (the base applied per expert, as a plain
// expert would) and against the dense reconstruction W_e = W_b + ΔU ΔV, plus the dynamic base
// pruning (wanda score) at pp 10 % / 60 % on top of the shared path. Measurements only.
import { type ExecMoe, moeBlock } from '../src-main/engine/model/blocks/moe-block';
import { moeViewToExec } from '../src-main/engine/model/layer-weights';
import type { ExpertWeights, MoeLayerView, Tensor2D } from '../src-main/engine/model/types';
import { initBackend, tf } from '../src-main/engine/tensor/backend';

const H = 512;
const I = 1024;
const N = 8;
const RANK = 96;
const TOKENS = 512;
const REPS = 5;

function view(dense: boolean, dynamicRemove = 0, Ik = I): MoeLayerView {
  const r = (s: [number, number], scale: number) =>
    tf.mul(tf.randomNormal(s, 0, 1, 'float32', 7), scale) as Tensor2D;
  const base = { gate: r([Ik, H], 0.05), up: r([Ik, H], 0.05), down: r([H, Ik], 0.05) };
  const experts: ExpertWeights[] = Array.from({ length: N }, () => {
    const d = (q: 'gate' | 'up' | 'down') => {
      const [m, n] = base[q].shape;
      return { kind: 'delta' as const, base: base[q], A: r([m, RANK], 0.05), B: r([RANK, n], 0.05) };
    };
    return { gate: d('gate'), up: d('up'), down: d('down') };
  });
  const v: MoeLayerView = {
    layer: 0,
    router: r([N, H], 0.1),
    experts: dense
      ? experts.map((e) => {
          const w = (L: (typeof e)['gate']) => {
            if (L.kind !== 'delta') throw new Error(`expected a D²-MoE linear, got ${L.kind}`);
            return { kind: 'dense' as const, w: tf.add(L.base, tf.matMul(L.A, L.B)) as Tensor2D };
          };
          return { gate: w(e.gate), up: w(e.up), down: w(e.down) };
        })
      : experts,
    routing: { kind: 'softmax-topk', topK: 2, normTopK: true, normEps: 0 },
  };
  if (dynamicRemove > 0) v.dynamicPrune = { remove: dynamicRemove, score: 'wanda' };
  return v;
}

/**
 * Seconds per call, wall and process CPU (user + system): on a shared machine the CPU time is the
 * robust figure (the wasm backend computes on this thread). The variants are interleaved, one call
 * each per round, and the median per variant is kept, so load drift hits them alike.
 */
async function timeAll(execs: ExecMoe[], x: Tensor2D): Promise<{ wall: number; cpu: number }[]> {
  for (const e of execs) (await moeBlock(x, e, 0, 0)).dispose(); // warm-up
  const wall: number[][] = execs.map(() => []);
  const cpu: number[][] = execs.map(() => []);
  for (let r = 0; r < REPS; r++)
    for (let i = 0; i < execs.length; i++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      (await moeBlock(x, execs[i]!, 0, 0)).dispose();
      wall[i]!.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpu[i]!.push((c.user + c.system) / 1e6);
    }
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
  return execs.map((_, i) => ({ wall: med(wall[i]!), cpu: med(cpu[i]!) }));
}

export async function run(): Promise<Record<string, number | string>> {
  await initBackend();
  const x = tf.randomNormal([TOKENS, H], 0, 1, 'float32', 3) as Tensor2D;
  // pp 10 % / 60 % of I: half static (a narrower stored base), half dynamic per chunk
  const pp = (p: number) => {
    const removed = Math.floor(p * I);
    const st = Math.floor(removed / 2);
    return view(false, removed - st, I - st);
  };
  const d2 = view(false);
  const views = [d2, d2, view(true), pp(0.1), pp(0.6)];
  const built = views.map((v) => moeViewToExec(v));
  built[1]!.exec.naiveBase = true;
  const [shared, naive, dense, pp10, pp60] = await timeAll(
    built.map((b) => b.exec),
    x,
  );
  for (const b of built) tf.dispose(b.owned);
  x.dispose();
  const tps = (s: number) => Math.round(TOKENS / s);
  const row = (name: string, t: { wall: number; cpu: number }) => ({
    [`${name}TokensPerSecond`]: tps(t.wall),
    [`${name}TokensPerCpuSecond`]: tps(t.cpu),
  });
  return {
    shape: `hidden ${H}, I ${I}, ${N} experts top-2, delta rank ${RANK}, chunk ${TOKENS} tokens; median of ${REPS} interleaved rounds`,
    ...row('sharedBase', shared!),
    ...row('naiveBase', naive!),
    ...row('denseReconstruction', dense!),
    ...row('dynamicPp10', pp10!),
    ...row('dynamicPp60', pp60!),
    sharedVsNaiveSpeedupCpu: Number((naive!.cpu / shared!.cpu).toFixed(2)),
    sharedVsNaiveSpeedupWall: Number((naive!.wall / shared!.wall).toFixed(2)),
    sharedVsDenseSpeedupCpu: Number((dense!.cpu / shared!.cpu).toFixed(2)),
  };
}
