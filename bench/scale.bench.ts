// `npm run bench scale`: the issue-18 scale table in one run. Each part measures ours against an anchor
// in the same run (numpy/LAPACK on the same matrices or model, the dense forward, 4 vs 16 layers), then
// every ratio is printed next to its goal. Parts are separate files under bench/scale/ so each can also
// run alone; a part that cannot run (no python3/numpy) says so in its figures instead of vanishing.
import { initBackend } from '../src-main/engine/tensor/backend';
import { forwardScale } from './scale/forward';
import { linalgScale } from './scale/linalg';
import { memoryScale } from './scale/memory';
import { olmoeSvdLlmScale } from './scale/olmoe-svdllm';

type Figures = Record<string, number | string>;

interface Goal {
  label: string;
  /** key in the merged figures */
  key: string;
  /** the value passes when `ok(value)`; absent for a figure reported without a goal */
  ok?(v: number): boolean;
  goal: string;
}

const GOALS: Goal[] = [
  { label: 'forward vs numpy f32 (batch 1×512)', key: 'forward.vsNumpy', ok: (v) => v >= 1, goal: '≥ 1.0×' },
  {
    label: 'forward vs numpy f32, 1 thread',
    key: 'forward.vsNumpy1Thread',
    ok: (v) => v >= 1,
    goal: '≥ 1.0× (reference)',
  },
  {
    label: 'randomized SVD vs LAPACK full SVD (time)',
    key: 'linalg.rsvdVsLapackSpeedup',
    ok: (v) => v > 1,
    goal: '> 1× faster',
  },
  {
    label: 'randomized SVD excess error r=128',
    key: 'linalg.rsvdExcess128',
    ok: (v) => v <= 0.01,
    goal: '≤ 1 %',
  },
  {
    label: 'randomized SVD excess error r=512',
    key: 'linalg.rsvdExcess512',
    ok: (v) => v <= 0.01,
    goal: '≤ 1 %',
  },
  { label: 'Cholesky 4096, ours ÷ LAPACK (time)', key: 'linalg.cholesky4096Ratio', goal: 'reported' },
  {
    label: 'triangular inverse 4096, ours ÷ LAPACK (time)',
    key: 'linalg.invLower4096Ratio',
    goal: 'reported',
  },
  { label: 'peak RSS 16 vs 4 layers', key: 'memory.rss16over4', ok: (v) => v <= 1.2, goal: '≤ 1.2×' },
  {
    label: 'compressed / dense forward at 60 %',
    key: 'forward.compressedRatio60',
    ok: (v) => v >= 1.4,
    goal: '≥ 1.4×',
  },
  {
    label: 'OLMoE-1B-7B SVD-LLM peak RSS (GiB)',
    key: 'olmoe.peakRssGiB',
    ok: (v) => v <= 8,
    goal: '≤ 8 GiB',
  },
  {
    label: 'OLMoE-1B-7B SVD-LLM, 16 layers extrapolated (h)',
    key: 'olmoe.extrapolated16LayersHours',
    ok: (v) => v <= 2,
    goal: '≤ 2 h',
  },
  {
    label: 'Mixtral-8x7B SVD-LLM pre-flight estimate (GiB)',
    key: 'memory.mixtralPreflightGiB',
    ok: (v) => v <= 24,
    goal: 'accepted on 24 GB',
  },
];

/** One part, isolated: its failure is a figure, never the end of the table. */
async function part(prefix: string, f: () => Promise<Figures>): Promise<Figures> {
  const t0 = performance.now();
  let figs: Figures;
  try {
    figs = await f();
  } catch (e) {
    figs = { error: (e as Error).message.split('\n')[0]!.slice(0, 300) };
  }
  figs.seconds = Number(((performance.now() - t0) / 1000).toFixed(1));
  return Object.fromEntries(Object.entries(figs).map(([k, v]) => [`${prefix}.${k}`, v]));
}

export async function run(): Promise<Figures> {
  await initBackend({ force: 'wasm' });
  const only = (process.env.MOE_SCALE_PARTS ?? 'forward,linalg,memory,olmoe').split(',');
  const figs: Figures = {};
  if (only.includes('forward')) Object.assign(figs, await part('forward', forwardScale));
  if (only.includes('linalg')) Object.assign(figs, await part('linalg', linalgScale));
  if (only.includes('memory')) Object.assign(figs, await part('memory', memoryScale));
  if (only.includes('olmoe')) Object.assign(figs, await part('olmoe', () => olmoeSvdLlmScale()));

  const rows = GOALS.map((g) => {
    const v = figs[g.key];
    const shown = typeof v === 'number' ? String(Number(v.toPrecision(4))) : (v ?? 'not measured');
    const verdict = typeof v !== 'number' || !g.ok ? '—' : g.ok(v) ? 'met' : 'NOT met';
    return `  ${g.label.padEnd(50)} ${String(shown).padStart(12)}  goal ${g.goal.padEnd(20)} ${verdict}`;
  });
  console.log(`\n## scale: ratios against goals\n${rows.join('\n')}`);
  return figs;
}
