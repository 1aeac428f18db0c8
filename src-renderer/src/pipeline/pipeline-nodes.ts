// The pipeline as a chain of stages for the graph view: model & target → calibration → each
// compression step in order → evaluation → export. Pure: derived from the config (and the live
// plan, when there is one) on every edit.
import type { PipelinePlan } from '@contract';
import { DEFAULT_PPL_PROTOCOL } from '@contract/protocol';
import { stepPlanLine } from './plan-view';

export type StageId = 'model' | 'calibration' | `step-${number}` | 'evaluate' | 'export';

export interface Stage {
  id: StageId;
  kind: 'model' | 'calibration' | 'step' | 'evaluate' | 'export';
  title: string;
  summary: string;
  /** index into config.steps for kind 'step' */
  stepIndex?: number;
  /** the step's method family letter, when the method is known */
  family?: string;
  /** the live plan's line for a step: knob values and the ratio after it */
  planned?: string;
}

export interface StageContext {
  methodTitles?: ReadonlyMap<string, string>;
  methodFamilies?: ReadonlyMap<string, string>;
  /** the current plan; its steps line up with config.steps */
  plan?: PipelinePlan | null;
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(0)}%` : null);

/** "perplexity · wikitext2 · 7 tasks ≤500 docs": what the evaluation stage will run. */
function evaluateSummary(ev: Record<string, unknown>): string {
  const parts: string[] = [];
  if (ev.ppl) parts.push(`perplexity · ${String(asObj(ev.ppl).dataset ?? 'wikitext2')}`);
  if (ev.mc) {
    const mc = asObj(ev.mc);
    const n = Array.isArray(mc.tasks) ? mc.tasks.length : 7;
    parts.push(`${n} task${n === 1 ? '' : 's'}${typeof mc.limit === 'number' ? ` ≤${mc.limit} docs` : ''}`);
  }
  return parts.length ? parts.join(' · ') : 'none';
}

export function stagesOf(config: unknown, context: StageContext | ReadonlyMap<string, string> = {}): Stage[] {
  const ctx: StageContext = context instanceof Map ? { methodTitles: context } : (context as StageContext);
  const methodTitles = ctx.methodTitles ?? new Map<string, string>();
  const c = asObj(config);
  const cal = asObj(c.calibration);
  const steps = Array.isArray(c.steps) ? c.steps : [];
  // a plan for another step list (an answer still on its way) is not shown on these nodes
  const planSteps = ctx.plan?.steps.length === steps.length ? ctx.plan.steps : null;
  const exp = asObj(c.export);
  const model = typeof c.model === 'string' ? (c.model.split(/[\\/]/).filter(Boolean).pop() ?? c.model) : '—';
  const stages: Stage[] = [
    {
      id: 'model',
      kind: 'model',
      title: 'Model & target',
      summary: [model, pct(asObj(c.target).ratio) && `target ${pct(asObj(c.target).ratio)}`]
        .filter(Boolean)
        .join(' · '),
    },
    {
      id: 'calibration',
      kind: 'calibration',
      title: 'Calibration',
      summary: `${String(cal.dataset ?? 'calib')} · ${String(cal.samples ?? 32)}×${String(cal.seqLen ?? 256)}`,
    },
  ];
  steps.forEach((s, i) => {
    const st = asObj(s);
    const p = asObj(st.params);
    const method = typeof st.method === 'string' ? st.method : '?';
    const amount =
      p.rank !== undefined
        ? `rank ${String(p.rank)}`
        : p.ratio !== undefined
          ? `ratio ${pct(p.ratio)}`
          : p.keepRatio !== undefined
            ? `keep ${pct(p.keepRatio)}`
            : p.expertsRemoved !== undefined
              ? `remove ${String(p.expertsRemoved)}`
              : p.fraction !== undefined
                ? `fraction ${pct(p.fraction)}`
                : 'target ratio';
    const family = ctx.methodFamilies?.get(method);
    const planned = planSteps?.[i]?.method === method ? stepPlanLine(planSteps[i]!) : undefined;
    stages.push({
      id: `step-${i}`,
      kind: 'step',
      stepIndex: i,
      title: `${i + 1}. ${methodTitles.get(method) ?? method}`,
      summary: `${method} · ${amount}`,
      ...(family ? { family } : {}),
      ...(planned ? { planned } : {}),
    });
  });
  stages.push({
    id: 'evaluate',
    kind: 'evaluate',
    title: 'Evaluation',
    summary: evaluateSummary(asObj(c.evaluate)),
  });
  stages.push({
    id: 'export',
    kind: 'export',
    title: 'Export',
    summary: c.export
      ? `${String(exp.format ?? 'factored')}${exp.dtype ? ` · ${String(exp.dtype)}` : ''}`
      : 'none',
  });
  return stages;
}

/** Which stage an issue path (`steps.0.params.rank`) belongs to, to mark the node in error. */
export function stageOfPath(path: string): StageId {
  const [head, idx] = path.split('.');
  if (head === 'steps') return idx !== undefined && /^\d+$/.test(idx) ? `step-${Number(idx)}` : 'step-0';
  if (head === 'calibration') return 'calibration';
  if (head === 'evaluate') return 'evaluate';
  if (head === 'export') return 'export';
  return 'model';
}

/** The model a new draft names: the README's default and the first-run baseline's (a built-in). */
export const DEFAULT_MODEL = 'tiny-mixtral';

/**
 * A new draft. Calibration uses `calib` (its own data set), never the evaluation text: calibrating
 * on WikiText-2 and then measuring perplexity on it would report a fitted, not a held-out, number.
 */
export function newPipelineConfig(model: string, name = 'new-pipeline'): Record<string, unknown> {
  return {
    version: 2,
    name,
    model,
    calibration: { dataset: 'calib', samples: 32, seqLen: 256, seed: 3 },
    target: { ratio: 0.2 },
    steps: [{ method: 'svd', params: {} }],
    // the first-run baseline's protocol: this pipeline's perplexity has a matched baseline
    evaluate: { ppl: { ...DEFAULT_PPL_PROTOCOL } },
    export: { format: 'factored' },
  };
}
