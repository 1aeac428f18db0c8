// The form for the selected pipeline stage, generated from the pipeline's and the methods' JSON
// Schemas; every change is written into the config at the stage's path.
import type { MethodInfo, ModelRecord } from '@contract';
import { useId, useMemo } from 'react';
import { getAt } from '../../forms/object-path';
import { fieldsOf, type JsonSchema } from '../../forms/schema-fields';
import type { Stage } from '../../pipeline/pipeline-nodes';
import { SchemaForm } from '../SchemaForm';

export interface StageFormProps {
  stage: Stage;
  config: Record<string, unknown>;
  schema: JsonSchema | undefined;
  methods: MethodInfo[];
  models: ModelRecord[];
  issues: ReadonlyMap<string, string>;
  set(path: (string | number)[], value: unknown): void;
  addStep(after: number): void;
  removeStep(index: number): void;
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
  issues,
  set,
  addStep,
  removeStep,
}: StageFormProps) {
  const ids = useId().replace(/:/g, '');
  const props = schema?.properties ?? {};
  const calibrationFields = useMemo(() => fieldsOf(props.calibration ?? {}), [props.calibration]);
  const pplFields = useMemo(() => fieldsOf(props.evaluate?.properties?.ppl ?? {}), [props.evaluate]);
  const exportFields = useMemo(() => fieldsOf(props.export ?? {}), [props.export]);

  switch (stage.kind) {
    case 'model': {
      const model = typeof config.model === 'string' ? config.model : '';
      const known = models.some((m) => m.path === model || m.name === model);
      const ratio = getAt(config, ['target', 'ratio']);
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
                value={known ? models.find((m) => m.path === model || m.name === model)!.path : ''}
                onChange={(e) => set(['model'], e.target.value)}
              >
                <option value="">{model && !known ? `(other: ${model})` : '(choose a model)'}</option>
                {models.map((m) => (
                  <option key={m.id} value={m.path}>
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
          <div className="form-row">
            <label htmlFor={`${ids}-ratio`}>Target ratio</label>
            <div className="form-control">
              <input
                id={`${ids}-ratio`}
                className="input"
                inputMode="decimal"
                value={typeof ratio === 'number' ? String(ratio) : ''}
                placeholder="0.2"
                onChange={(e) => {
                  const t = e.target.value.trim();
                  set(
                    ['target'],
                    t === '' ? undefined : { ratio: Number.isFinite(Number(t)) ? Number(t) : t },
                  );
                }}
              />
              <span className="field-help">
                whole-model compression ratio 1 − params_after/params_before (0 ≤ x &lt; 1)
              </span>
              {issues.get('target') || issues.get('target.ratio') ? (
                <span className="inline-error" role="alert">
                  {issues.get('target.ratio') ?? issues.get('target')}
                </span>
              ) : null}
            </div>
          </div>
        </div>
      );
    }
    case 'calibration':
      return (
        <SchemaForm
          fields={calibrationFields}
          value={config.calibration ?? {}}
          onChange={(p, v) => set(['calibration', ...p], v)}
          issues={issuesUnder(issues, 'calibration')}
          idPrefix={`${ids}-cal`}
        />
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
            <label htmlFor={`${ids}-method`}>Method</label>
            <div className="form-control">
              <select
                id={`${ids}-method`}
                className="input"
                value={step?.method ?? ''}
                onChange={(e) => set(['steps', i], { method: e.target.value, params: {} })}
              >
                {!method ? (
                  <option value="">{step?.method ? `(unknown: ${step.method})` : '(choose)'}</option>
                ) : null}
                {methods.map((m) => (
                  <option key={m.id} value={m.id}>
                    {m.title} ({m.id})
                  </option>
                ))}
              </select>
              {method ? <span className="field-help">{method.description}</span> : null}
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
      return (
        <div>
          <label className="checkbox-row">
            <input
              type="checkbox"
              checked={on}
              onChange={(e) =>
                set(
                  ['evaluate'],
                  e.target.checked
                    ? { ppl: { dataset: 'wikitext2', seqLen: 256, maxWindows: 16 } }
                    : undefined,
                )
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
