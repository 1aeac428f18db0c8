// Pipeline configs checked the way a run would check them, before any compute: first the engine's
// schema (plain-sentence problems with their field), then — when the schema is fine — its model
// and data set references, and the plan from the model's shapes (budget unreachable, contributions
// that do not sum to 1 or name a family no budget-driven step has, a step that cannot run where it
// is, a knob outside what the model allows). Every problem is a {path, message} the editor places
// on its field. All tfjs-free and fast (config.json and safetensors headers only).
import type { ConfigIssue, MethodFamily, PipelinePlan } from '../../contract/index';
import { EngineError } from '../../engine/errors';
import { findTaskFile } from '../../engine/eval/mc/task-data';
import { createResolver, type Resolver, sourceTreeRoots } from '../../engine/io/resolver';
import { getMethod } from '../../engine/methods/catalog';
import { loadModelSpec } from '../../engine/model/registry';
import type { ModelSpec } from '../../engine/model/types';
import { isBudgetDriven, stepAmounts } from '../../engine/pipeline/budget';
import { configProblems, type PipelineConfig } from '../../engine/pipeline/config';
import { checkpointDtype, exportDtype, planFromSpec } from '../../engine/pipeline/plan';
import { dtypeBytes, stateFromSpec } from '../../engine/pipeline/plan-state';

export interface PipelineCheck {
  /** every problem; empty when the config can run */
  issues: ConfigIssue[];
  /** the resolved config (defaults filled in, version 2) once the schema accepts it */
  config: PipelineConfig | null;
  plan: PipelinePlan | null;
  budgetFamilies: MethodFamily[];
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** An EngineError's sentence without the `field: ` prefix its constructor adds, plus its hint. */
function engineSentence(e: EngineError): string {
  const where = [e.file, e.field].filter(Boolean).join(': ');
  const text = where && e.message.startsWith(`${where}: `) ? e.message.slice(where.length + 2) : e.message;
  return e.hint ? `${text}; ${e.hint}` : text;
}

/** A model that cannot be resolved or read is a problem of the `model` field. */
function modelIssue(e: unknown): ConfigIssue {
  if (e instanceof EngineError) {
    const text = engineSentence(e);
    return { path: 'model', message: e.file && e.field !== 'model' ? `${e.file}: ${text}` : text };
  }
  return { path: 'model', message: `the model cannot be read: ${messageOf(e)}` };
}

/**
 * A step problem from the solver: `steps.<i>` / `steps.<i>.params` (or, from older solvers and the
 * methods' own checks, just `steps`, the step then found by the method the sentence names). A knob
 * outside its range lands on the param that set it, when the params set it.
 */
function stepPath(config: PipelineConfig, field: string, sentence: string): string {
  const f = /^steps(?:\.(\d+))?(\.params)?$/.exec(field);
  if (!f) return field;
  const m = /^([\w.-]+): (.*)$/s.exec(sentence);
  const knob = m ? /^(\w+) (-?\d+(?:\.\d+)?) is outside/.exec(m[2]!) : null;
  let index: number | null = f[1] !== undefined ? Number(f[1]) : null;
  if (index === null && m) {
    const candidates = config.steps.map((s, i) => ({ s, i })).filter(({ s }) => s.method === m[1]);
    const hit = (knob && candidates.find(({ s }) => s.params[knob[1]!] === Number(knob[2]))) ?? candidates[0];
    index = hit?.i ?? null;
  }
  if (index === null || !config.steps[index]) return field;
  if (knob && knob[1]! in config.steps[index]!.params) return `steps.${index}.params.${knob[1]}`;
  return f[2] ? `steps.${index}.params` : `steps.${index}`;
}

function planIssue(e: unknown, config: PipelineConfig): ConfigIssue {
  if (!(e instanceof EngineError)) return { path: '', message: `the plan failed: ${messageOf(e)}` };
  const sentence = engineSentence(e);
  const field = e.field && e.field !== '(root)' ? e.field : '';
  return { path: stepPath(config, field, sentence), message: sentence };
}

/** Where an unreachable target belongs: the budget's ratio, or the last step's own ratio. */
function problemPath(plan: PipelinePlan, config: PipelineConfig): string {
  if (plan.steps.some((s) => s.amount.kind === 'share')) return 'target.ratio';
  for (let i = plan.steps.length - 1; i >= 0; i--)
    if (plan.steps[i]!.amount.kind === 'ratio' && config.steps[i]) return `steps.${i}.params.ratio`;
  return 'target.ratio';
}

/** Families of the budget-driven steps (no explicit knob, no own ratio), by the solver's own rule. */
function budgetFamiliesOf(config: PipelineConfig, spec: ModelSpec, dtype: string): MethodFamily[] {
  try {
    const state = stateFromSpec(spec, dtypeBytes(exportDtype(config, dtype)));
    const steps = config.steps.map((s) => ({ decl: getMethod(s.method), params: s.params }));
    try {
      // a ratio and no contributions: the rule runs, only two steps of one family can still throw
      return stepAmounts(steps, state, { ratio: config.target?.ratio ?? 0 }).flatMap((a) =>
        a.kind === 'share' ? [a.family] : [],
      );
    } catch {
      const fams = steps.filter((s) => isBudgetDriven(s, state)).map((s) => s.decl.family);
      return [...new Set(fams)];
    }
  } catch {
    return [];
  }
}

export interface CheckOptions {
  /**
   * How `model`, `calibration.dataset` / `.text` and `evaluate.ppl.dataset` resolve: the app passes
   * its roots, as its jobs get them. Default: the source tree's roots, paths against the working folder.
   */
  resolver?: Resolver;
}

/** The config's data references, each resolved as the job will: one issue per one that does not. */
function referenceIssues(config: PipelineConfig, r: Resolver): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const attempt = (path: string, f: () => unknown) => {
    try {
      f();
    } catch (e) {
      const text = e instanceof EngineError ? engineSentence(e) : messageOf(e);
      issues.push({ path, message: e instanceof EngineError && e.file ? `${text} (${e.file})` : text });
    }
  };
  const cal = config.calibration;
  if (cal.text) attempt('calibration.text', () => r.resolveFile(cal.text!, 'calibration.text'));
  else attempt('calibration.dataset', () => r.resolveDataset(cal.dataset, 'calibration.dataset'));
  const ppl = config.evaluate?.ppl;
  if (ppl) attempt('evaluate.ppl.dataset', () => r.resolveDataset(ppl.dataset, 'evaluate.ppl.dataset'));
  for (const [i, ev] of (config.evaluate?.perplexity ?? []).entries())
    attempt(`evaluate.perplexity.${i}.dataset`, () =>
      r.resolveDataset(ev.dataset, `evaluate.perplexity[${i}].dataset`),
    );
  for (const [i, task] of (config.evaluate?.mc?.tasks ?? []).entries())
    attempt(`evaluate.mc.tasks.${i}`, () => findTaskFile(task, r.options.datasetRoots));
  return issues;
}

export function checkPipeline(raw: unknown, opts: CheckOptions = {}): PipelineCheck {
  const parsed = configProblems(raw);
  if (!parsed.ok) return { issues: parsed.problems, config: null, plan: null, budgetFamilies: [] };
  const config = parsed.config;
  const resolver = opts.resolver ?? createResolver({ baseDir: process.cwd(), ...sourceTreeRoots() });
  let spec: ModelSpec;
  let dtype: string;
  try {
    const dir = resolver.resolveModel(config.model);
    spec = loadModelSpec(dir).spec;
    dtype = checkpointDtype(dir);
  } catch (e) {
    return { issues: [modelIssue(e)], config, plan: null, budgetFamilies: [] };
  }
  const refs = referenceIssues(config, resolver);
  const budgetFamilies = budgetFamiliesOf(config, spec, dtype);
  try {
    const plan = planFromSpec(config, spec, dtype);
    const issues = plan.problem
      ? [{ path: problemPath(plan, config), message: plan.problem.replace(/^target\.ratio: /, '') }]
      : [];
    return { issues: [...refs, ...issues], config, plan, budgetFamilies };
  } catch (e) {
    return { issues: [...refs, planIssue(e, config)], config, plan: null, budgetFamilies };
  }
}

/** Schema problems, then the plan's: what `pipelines.validate` and `pipelines.run` report. */
export function validatePipelineConfig(config: unknown, opts: CheckOptions = {}): ConfigIssue[] {
  return checkPipeline(config, opts).issues;
}
