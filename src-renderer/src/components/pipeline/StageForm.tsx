// The form for the selected pipeline stage, generated from the pipeline's and the methods' JSON
// Schemas; every change is written into the config at the stage's path. The calibration data set
// is a choice among the registered data sets; a step's method a choice among `methods.list`,
// grouped by family.
import type { DatasetRecord, MethodInfo, ModelRecord } from '@contract';
import { DEFAULT_PPL_PROTOCOL } from '@contract/protocol';
import { useId, useMemo } from 'react';
import { getAt } from '../../forms/object-path';
import { branchOf, fieldsOf, type JsonSchema } from '../../forms/schema-fields';
import { familyName } from '../../pipeline/budget';
import { modelNamed, modelRef } from '../../pipeline/model-ref';
import type { Stage } from '../../pipeline/pipeline-nodes';
import { SchemaForm } from '../SchemaForm';

/** What ticking the multiple-choice box starts from: the reference configs' tasks and 500 documents. */
const DEFAULT_MC_SETTINGS = {
  tasks: ['arc_easy', 'arc_challenge', 'openbookqa', 'piqa', 'hellaswag', 'winogrande', 'mathqa'],
  limit: 500,
} as const;

export interface StageFormProps {
  stage: Stage;
  config: Record<string, unknown>;
  schema: JsonSchema | undefined;
  methods: MethodInfo[];
  models: ModelRecord[];
  datasets: DatasetRecord[];
  issues: ReadonlyMap<string, string>;
  set(path: (string | number)[], value: unknown): void;
  setStepMethod(index: number, method: string): void;
  addStep(after: number): void;
  moveStep(from: number, to: number): void;
  removeStep(index: number): void;
}

/** Methods by family, in the order the list gives them (for <optgroup>s). */
export function methodGroups(methods: readonly MethodInfo[]): [string, MethodInfo[]][] {
  const groups = new Map<string, MethodInfo[]>();
  for (const m of methods) groups.set(m.family, [...(groups.get(m.family) ?? []), m]);
  return [...groups];
}

export function MethodOptions({ methods }: { methods: readonly MethodInfo[] }) {
  return (
    <>
      {methodGroups(methods).map(([family, ms]) => (
        <optgroup key={family} label={`${family} · ${familyName(family)}`}>
          {ms.map((m) => (
            <option key={m.id} value={m.id}>
              {m.title} ({m.id})
            </option>
          ))}
        </optgroup>
      ))}
    </>
  );
}

/** The value a registered data set is referred to by in a config: built-ins by name, others by path. */
export const datasetRef = (d: DatasetRecord): string => (d.builtin ? d.name : d.path);

function DatasetSelect({
  id,
  value,
  datasets,
  onChange,
  issue,
}: {
  id: string;
  value: unknown;
  datasets: DatasetRecord[];
  onChange(v: string): void;
  issue: string | undefined;
}) {
  const current = typeof value === 'string' ? value : 'calib';
  const known = datasets.some((d) => datasetRef(d) === current || d.name === current);
  return (
    <div className={`form-row${issue ? ' has-issue' : ''}`}>
      <label htmlFor={id}>Dataset</label>
      <div className="form-control">
        <select
          id={id}
          className="input"
          value={
            known
              ? datasetRef(datasets.find((d) => datasetRef(d) === current || d.name === current)!)
              : current
          }
          onChange={(e) => onChange(e.target.value)}
        >
          {!known ? <option value={current}>{current} (not registered)</option> : null}
          {datasets.map((d) => (
            <option key={d.id} value={datasetRef(d)}>
              {d.name}
              {d.builtin ? ' (built-in)' : ''}
            </option>
          ))}
        </select>
        <span className="field-help">
          calibration text; keep it apart from the evaluation data (default: calib)
        </span>
        {issue ? (
          <span className="inline-error" role="alert">
            {issue}
          </span>
        ) : null}
      </div>
    </div>
  );
}

/** Issues under a prefix, re-keyed relative to it. */
function issuesUnder(issues: ReadonlyMap<string, string>, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of issues) if (k.startsWith(`${prefix}.`)) out.set(k.slice(prefix.length + 1), v);
  return out;
}

export function StageForm({
  stage,
  config,
  schema,
  methods,
  models,
  datasets,
  issues,
  set,
  setStepMethod,
  addStep,
  moveStep,
  removeStep,
}: StageFormProps) {
  const ids = useId().replace(/:/g, '');
  // the schema is a union of config versions; forms edit version 2 (what every edit writes)
  const props = branchOf(schema, 'version', 2)?.properties ?? {};
  const calibrationFields = useMemo(
    () => fieldsOf(props.calibration ?? {}).filter((f) => f.key !== 'dataset'),
    [props.calibration],
  );
  const pplFields = useMemo(() => fieldsOf(props.evaluate?.properties?.ppl ?? {}), [props.evaluate]);
  const mcFields = useMemo(() => fieldsOf(props.evaluate?.properties?.mc ?? {}), [props.evaluate]);
  const exportFields = useMemo(() => fieldsOf(props.export ?? {}), [props.export]);

  switch (stage.kind) {
    case 'model': {
      const model = typeof config.model === 'string' ? config.model : '';
      const chosen = modelNamed(models, model);
      return (
        <div className="schema-form">
          <div className="form-row">
            <label htmlFor={`${ids}-name`}>Pipeline name</label>
            <div className="form-control">
              <input
                id={`${ids}-name`}
                className="input"
                value={typeof config.name === 'string' ? config.name : ''}
                onChange={(e) => set(['name'], e.target.value)}
              />
              {issues.get('name') ? (
                <span className="inline-error" role="alert">
                  {issues.get('name')}
                </span>
              ) : null}
            </div>
          </div>
          <div className="form-row">
            <label htmlFor={`${ids}-model`}>Model</label>
            <div className="form-control">
              <select
                id={`${ids}-model`}
                className="input"
                value={chosen ? modelRef(chosen) : ''}
                onChange={(e) => set(['model'], e.target.value)}
              >
                <option value="">{model && !chosen ? `(other: ${model})` : '(choose a model)'}</option>
                {models.map((m) => (
                  <option key={m.id} value={modelRef(m)}>
                    {m.name}
                  </option>
                ))}
              </select>
              {issues.get('model') ? (
                <span className="inline-error" role="alert">
                  {issues.get('model')}
                </span>
              ) : null}
            </div>
          </div>
          <p className="field-help">
            The compression target and its split between the steps are set in the Budget panel.
          </p>
        </div>
      );
    }
    case 'calibration':
      return (
        <div className="schema-form">
          <DatasetSelect
            id={`${ids}-cal-dataset`}
            value={getAt(config, ['calibration', 'dataset'])}
            datasets={datasets}
            onChange={(v) => set(['calibration', 'dataset'], v)}
            issue={issues.get('calibration.dataset')}
          />
          <SchemaForm
            fields={calibrationFields}
            value={config.calibration ?? {}}
            onChange={(p, v) => set(['calibration', ...p], v)}
            issues={issuesUnder(issues, 'calibration')}
            idPrefix={`${ids}-cal`}
          />
        </div>
      );
    case 'step': {
      const i = stage.stepIndex!;
      const step = (Array.isArray(config.steps) ? config.steps[i] : undefined) as
        | { method?: string; params?: unknown }
        | undefined;
      const method = methods.find((m) => m.id === step?.method);
      const fields = method ? fieldsOf(method.paramsSchema as JsonSchema) : [];
      const stepIssues = issuesUnder(issues, `steps.${i}.params`);
      return (
        <div>
          <div className="form-row">
            <label htmlFor={`${ids}-method`}>Step method</label>
            <div className="form-control">
              <select
                id={`${ids}-method`}
                className="input"
                value={step?.method ?? ''}
                onChange={(e) => setStepMethod(i, e.target.value)}
              >
                {!method ? (
                  <option value="">{step?.method ? `(unknown: ${step.method})` : '(choose)'}</option>
                ) : null}
                <MethodOptions methods={methods} />
              </select>
              {method ? (
                <>
                  <span className="field-help">{method.description}</span>
                  <span className="field-help">
                    family {method.family} ({familyName(method.family)}) · knob{' '}
                    <span className="mono">{method.knob}</span>: set in the params, or solved from the budget
                  </span>
                </>
              ) : null}
              {issues.get(`steps.${i}`) || issues.get(`steps.${i}.method`) ? (
                <span className="inline-error" role="alert">
                  {issues.get(`steps.${i}.method`) ?? issues.get(`steps.${i}`)}
                </span>
              ) : null}
            </div>
          </div>
          <SchemaForm
            key={step?.method}
            fields={fields}
            value={step?.params ?? {}}
            onChange={(p, v) => set(['steps', i, 'params', ...p], v)}
            issues={stepIssues}
            idPrefix={`${ids}-step${i}`}
          />
          <div className="button-row">
            <button type="button" className="button ghost" onClick={() => addStep(i)}>
              Add step after
            </button>
            <button
              type="button"
              className="button ghost"
              onClick={() => moveStep(i, i - 1)}
              disabled={i === 0}
            >
              Move earlier
            </button>
            <button
              type="button"
              className="button ghost"
              onClick={() => moveStep(i, i + 1)}
              disabled={!Array.isArray(config.steps) || i >= config.steps.length - 1}
            >
              Move later
            </button>
            <button
              type="button"
              className="button danger"
              onClick={() => removeStep(i)}
              disabled={!Array.isArray(config.steps) || config.steps.length <= 1}
            >
              Remove step
            </button>
          </div>
        </div>
      );
    }
    case 'evaluate': {
      const on = getAt(config, ['evaluate', 'ppl']) !== undefined;
      const mcOn = getAt(config, ['evaluate', 'mc']) !== undefined;
      return (
        <div>
          <label className="checkbox-row">
            <input
              type="checkbox"
              checked={on}
              onChange={(e) =>
                // only the ppl part: the multiple-choice and speed settings stay as they are
                set(['evaluate', 'ppl'], e.target.checked ? { ...DEFAULT_PPL_PROTOCOL } : undefined)
              }
            />
            Evaluate perplexity after compression
          </label>
          {on ? (
            <SchemaForm
              fields={pplFields}
              value={getAt(config, ['evaluate', 'ppl'])}
              onChange={(p, v) => set(['evaluate', 'ppl', ...p], v)}
              issues={issuesUnder(issues, 'evaluate.ppl')}
              idPrefix={`${ids}-ppl`}
            />
          ) : null}
          <label className="checkbox-row">
            <input
              type="checkbox"
              checked={mcOn}
              onChange={(e) =>
                set(
                  ['evaluate', 'mc'],
                  e.target.checked
                    ? { ...DEFAULT_MC_SETTINGS, tasks: [...DEFAULT_MC_SETTINGS.tasks] }
                    : undefined,
                )
              }
            />
            Evaluate zero-shot multiple-choice accuracy (lm-eval 0.4 tasks)
          </label>
          {mcOn ? (
            <SchemaForm
              fields={mcFields}
              value={getAt(config, ['evaluate', 'mc'])}
              onChange={(p, v) => set(['evaluate', 'mc', ...p], v)}
              issues={issuesUnder(issues, 'evaluate.mc')}
              idPrefix={`${ids}-mc`}
            />
          ) : null}
        </div>
      );
    }
    case 'export': {
      const on = config.export !== undefined;
      return (
        <div>
          <label className="checkbox-row">
            <input
              type="checkbox"
              checked={on}
              onChange={(e) => set(['export'], e.target.checked ? { format: 'factored' } : undefined)}
            />
            Choose the export format (default: factored, source dtype)
          </label>
          {on ? (
            <SchemaForm
              fields={exportFields}
              value={config.export}
              onChange={(p, v) => set(['export', ...p], v)}
              issues={issuesUnder(issues, 'export')}
              idPrefix={`${ids}-exp`}
            />
          ) : null}
        </div>
      );
    }
  }
}
