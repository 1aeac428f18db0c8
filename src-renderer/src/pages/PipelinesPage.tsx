// The pipeline editor: saved pipelines on the left; the graph of the steps (add, remove, reorder)
// with the selected stage's form, the budget with the live plan, and the Monaco JSON view of the
// same config (with its JSON Schema). Every view edits the one JSON text; the engine checks and
// plans it (debounced `pipelines.plan`: schema, then budget and step order) and a config with
// problems cannot be run.
import type { ConfigIssue, PipelinePlan } from '@contract';
import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import { useApi } from '../api/api-context';
import { InlineError } from '../components/InlineError';
import { JsonEditor } from '../components/JsonEditor';
import { Panel } from '../components/Panel';
import { BudgetPanel } from '../components/pipeline/BudgetPanel';
import { PipelineGraph, type StepActions } from '../components/pipeline/PipelineGraph';
import { MethodOptions, StageForm } from '../components/pipeline/StageForm';
import { setAt } from '../forms/object-path';
import type { JsonSchema } from '../forms/schema-fields';
import { useApiQuery } from '../hooks/use-api-query';
import { navigate, useHashLocation } from '../hooks/use-hash-location';
import { configText, parseConfigText } from '../pipeline/editor-state';
import { modelRef } from '../pipeline/model-ref';
import {
  DEFAULT_MODEL,
  newPipelineConfig,
  type StageId,
  stageOfPath,
  stagesOf,
} from '../pipeline/pipeline-nodes';
import { issueText } from '../pipeline/plan-view';
import {
  addStep as addStepAt,
  moveStep,
  removeStep as removeStepAt,
  setStepMethod as setStepMethodAt,
  stageAfterMove,
  stageAfterRemove,
  stepsOf,
} from '../pipeline/steps';

const VALIDATE_DELAY_MS = 250;

interface PlanState {
  issues: ConfigIssue[];
  plan: PipelinePlan | null;
  families: string[];
}

export function PipelinesPage() {
  const api = useApi();
  const saved = useApiQuery('pipelines.list', {});
  const models = useApiQuery('models.list', {}, ['models.changed']);
  const methods = useApiQuery('methods.list', {});
  const datasets = useApiQuery('datasets.list', {});
  const schema = useApiQuery('pipelines.schema', {});
  const addId = useId();
  const [docId, setDocId] = useState<number | null>(null);
  const [text, setText] = useState(() => configText(newPipelineConfig(DEFAULT_MODEL)));
  const [selected, setSelected] = useState<StageId>('model');
  const [planState, setPlanState] = useState<PlanState>({ issues: [], plan: null, families: [] });
  const [checking, setChecking] = useState(false);
  const [newMethod, setNewMethod] = useState('');
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const parsed = useMemo(() => parseConfigText(text), [text]);
  const config = parsed.ok ? parsed.config : null;

  // a new draft names the README's default model (tiny-mixtral, built in); only a store without it
  // falls back to its first model
  const firstModel =
    models.data && !models.data.some((m) => m.builtin && m.name === DEFAULT_MODEL) && models.data[0]
      ? modelRef(models.data[0])
      : undefined;
  useEffect(() => {
    if (!firstModel || docId !== null) return;
    setText((t) => {
      const p = parseConfigText(t);
      return p.ok && p.config.model === DEFAULT_MODEL ? configText({ ...p.config, model: firstModel }) : t;
    });
  }, [firstModel, docId]);

  // `#/pipelines?fromRun=<id>` opens a run's config, `?example=<file>` an example pipeline, as an
  // unsaved draft (the run page's "Open in editor", the overview's examples)
  const { query } = useHashLocation();
  const fromRun = Number(query.get('fromRun'));
  const example = query.get('example');
  useEffect(() => {
    let alive = true;
    const load = (cfg: unknown, note: string) => {
      if (!alive || cfg === null || typeof cfg !== 'object') return;
      setDocId(null);
      setText(configText(cfg as Record<string, unknown>));
      setNotice(note);
    };
    if (Number.isInteger(fromRun) && fromRun > 0)
      api.call('runs.get', { id: fromRun }).then(
        (d) =>
          load(
            (d.config as { config?: unknown } | null)?.config ?? null,
            `Opened the config of run #${fromRun}.`,
          ),
        (e: unknown) => alive && setActionError(e),
      );
    else if (example)
      api.call('pipelines.examples', {}).then(
        (list) =>
          load(list.find((x) => x.file === example)?.config ?? null, `Opened the example ${example}.`),
        (e: unknown) => alive && setActionError(e),
      );
    return () => {
      alive = false;
    };
  }, [api, fromRun, example]);

  useEffect(() => {
    if (!parsed.ok) {
      setPlanState((p) => ({ ...p, issues: [parsed.issue], plan: null }));
      return;
    }
    setChecking(true);
    let alive = true;
    const t = setTimeout(() => {
      api.call('pipelines.plan', { config: parsed.config }).then(
        (r) => {
          if (!alive) return;
          setPlanState((p) => ({
            issues: r.issues,
            plan: r.plan,
            // a config the schema refuses says nothing about the families: keep the last ones
            families:
              r.plan === null && r.budgetFamilies.length === 0 && r.issues.length
                ? p.families
                : r.budgetFamilies,
          }));
          setChecking(false);
        },
        (e: unknown) => {
          if (!alive) return;
          setPlanState((p) => ({
            ...p,
            issues: [{ path: '', message: `validation failed: ${String(e)}` }],
            plan: null,
          }));
          setChecking(false);
        },
      );
    }, VALIDATE_DELAY_MS);
    return () => {
      alive = false;
      clearTimeout(t);
    };
  }, [api, parsed]);
  const { issues, plan } = planState;

  const methodTitles = useMemo(
    () => new Map((methods.data ?? []).map((m) => [m.id, m.title])),
    [methods.data],
  );
  const methodFamilies = useMemo(
    () => new Map((methods.data ?? []).map((m) => [m.id, m.family as string])),
    [methods.data],
  );
  const familyOf = useCallback((m: string) => methodFamilies.get(m), [methodFamilies]);
  const stages = useMemo(
    () => stagesOf(config ?? {}, { methodTitles, methodFamilies, plan }),
    [config, methodTitles, methodFamilies, plan],
  );
  const stage = stages.find((s) => s.id === selected) ?? stages[0]!;
  const issueMap = useMemo(() => new Map(issues.map((i) => [i.path, issueText(i)])), [issues]);
  const issueCounts = useMemo(() => {
    const m = new Map<StageId, number>();
    for (const i of issues) m.set(stageOfPath(i.path), (m.get(stageOfPath(i.path)) ?? 0) + 1);
    return m;
  }, [issues]);

  const set = useCallback(
    (path: (string | number)[], value: unknown) => {
      if (!config) return;
      setText(configText(setAt(config, path, value)));
    },
    [config],
  );
  const edit = useCallback(
    (f: (c: Record<string, unknown>) => Record<string, unknown>) => {
      if (config) setText(configText(f(config)));
    },
    [config],
  );
  const chosenMethod = newMethod || methods.data?.[0]?.id || 'svd';
  const addStep = (after: number, method = chosenMethod) => {
    edit((c) => addStepAt(c, after + 1, method, familyOf));
    setSelected(`step-${after + 1}`);
  };
  const setStepMethod = (i: number, method: string) => edit((c) => setStepMethodAt(c, i, method, familyOf));
  const stepActions = useMemo<StepActions>(
    () => ({
      move(from, to) {
        if (!config) return;
        const n = stepsOf(config).length;
        const dest = Math.max(0, Math.min(n - 1, to));
        setText(configText(moveStep(config, from, dest)));
        setSelected((s) => stageAfterMove(s, from, dest));
      },
      remove(i) {
        if (!config) return;
        const next = removeStepAt(config, i, familyOf);
        setText(configText(next));
        setSelected((s) => stageAfterRemove(s, i, stepsOf(next).length));
      },
    }),
    [config, familyOf],
  );
  const stepCount = config ? stepsOf(config).length : 0;
  const selectedStep = stage.kind === 'step' ? stage.stepIndex! : stepCount - 1;

  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    setNotice(null);
    try {
      await fn();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };
  const name = config && typeof config.name === 'string' ? config.name : '';
  const save = () =>
    act(async () => {
      if (!config) throw new Error('Fix the JSON before saving.');
      const rec = await api.call(
        'pipelines.save',
        docId === null ? { name, config } : { id: docId, name, config },
      );
      setDocId(rec.id);
      setNotice(`Saved “${rec.name}”.`);
      saved.reload();
    });
  const duplicate = () =>
    act(async () => {
      if (!config) throw new Error('Fix the JSON before duplicating.');
      const taken = new Set((saved.data ?? []).map((p) => p.name));
      let copy = `${name} copy`;
      for (let n = 2; taken.has(copy); n++) copy = `${name} copy ${n}`;
      const rec = await api.call('pipelines.save', { name: copy, config: { ...config, name: copy } });
      setDocId(rec.id);
      setText(configText(rec.config));
      setNotice(`Duplicated as “${copy}”.`);
      saved.reload();
    });
  const load = (id: number) =>
    act(async () => {
      const rec = await api.call('pipelines.get', { id });
      setDocId(rec.id);
      setText(configText(rec.config));
      setSelected('model');
    });
  const remove = (id: number) =>
    act(async () => {
      await api.call('pipelines.delete', { id });
      if (docId === id) setDocId(null);
      saved.reload();
    });
  const run = () =>
    act(async () => {
      if (!config) return;
      const job = await api.call(
        'pipelines.run',
        docId === null ? { config } : { config, pipelineId: docId },
      );
      if (job.runId !== null) navigate(`/runs/${job.runId}`);
    });
  const canRun = parsed.ok && issues.length === 0 && !checking && !busy;

  return (
    <div className="pipelines-layout">
      <Panel
        title="Pipelines"
        actions={
          <button
            type="button"
            className="button ghost"
            onClick={() => {
              setDocId(null);
              setText(configText(newPipelineConfig(firstModel ?? DEFAULT_MODEL)));
              setSelected('model');
            }}
          >
            New
          </button>
        }
      >
        {(saved.data ?? []).length === 0 ? <p className="empty">No saved pipelines.</p> : null}
        <ul className="select-list" aria-label="Saved pipelines">
          {(saved.data ?? []).map((p) => (
            <li key={p.id} className={p.id === docId ? 'selected' : undefined}>
              <button
                type="button"
                className="select-item"
                aria-pressed={p.id === docId}
                onClick={() => load(p.id)}
              >
                <span className="model-name">{p.name}</span>
              </button>
              <button
                type="button"
                className="icon-button"
                aria-label={`Delete pipeline ${p.name}`}
                onClick={() => remove(p.id)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <InlineError error={saved.error} />
      </Panel>
      <div className="stack">
        <Panel
          title={docId === null ? 'New pipeline (unsaved)' : `Pipeline: ${name}`}
          actions={
            <>
              <span
                className={`validity ${issues.length ? 'bad' : 'good'}`}
                data-testid="config-validity"
                aria-live="polite"
              >
                {checking
                  ? 'checking…'
                  : issues.length
                    ? `${issues.length} problem${issues.length > 1 ? 's' : ''}`
                    : 'valid'}
              </span>
              <button type="button" className="button ghost" onClick={save} disabled={busy || !parsed.ok}>
                Save
              </button>
              <button
                type="button"
                className="button ghost"
                onClick={duplicate}
                disabled={busy || !parsed.ok}
              >
                Duplicate
              </button>
              <button
                type="button"
                className="button"
                onClick={run}
                disabled={!canRun}
                title={canRun ? 'Start a compress run' : 'Fix the problems first'}
              >
                Run
              </button>
            </>
          }
        >
          {notice ? (
            <p className="notice" role="status">
              {notice}
            </p>
          ) : null}
          <InlineError error={actionError ?? methods.error ?? schema.error ?? datasets.error} />
          <div className="toolbar step-toolbar">
            <label htmlFor={addId}>Method to add</label>
            <select
              id={addId}
              className="input"
              value={chosenMethod}
              onChange={(e) => setNewMethod(e.target.value)}
            >
              <MethodOptions methods={methods.data ?? []} />
            </select>
            <button
              type="button"
              className="button ghost"
              disabled={!config || stepCount >= 16 || !methods.data?.length}
              onClick={() => addStep(selectedStep)}
              title={stage.kind === 'step' ? `after step ${selectedStep + 1}` : 'after the last step'}
            >
              Add step
            </button>
            <span className="muted small">
              {stepCount} step{stepCount === 1 ? '' : 's'} · added after the selected step, or last
            </span>
          </div>
          <PipelineGraph
            key={stages.length}
            stages={stages}
            selected={stage.id}
            issueCounts={issueCounts}
            onSelect={setSelected}
            actions={stepActions}
          />
          <section className="stage-form" aria-label={`${stage.title} settings`}>
            <h3 className="section-title">{stage.title}</h3>
            {config ? (
              <StageForm
                stage={stage}
                config={config}
                schema={schema.data as JsonSchema | undefined}
                methods={methods.data ?? []}
                models={models.data ?? []}
                datasets={datasets.data ?? []}
                issues={issueMap}
                set={set}
                setStepMethod={setStepMethod}
                addStep={(after) => addStep(after)}
                moveStep={stepActions.move}
                removeStep={stepActions.remove}
              />
            ) : (
              <p className="muted">The JSON does not parse; fix it in the JSON view.</p>
            )}
          </section>
          {issues.length ? (
            <ul className="issue-list" aria-label="Config problems">
              {issues.map((i, k) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: issues are positional
                <li key={k} className="inline-error">
                  <button
                    type="button"
                    className="link-button mono"
                    onClick={() => setSelected(stageOfPath(i.path))}
                  >
                    {i.path || '(root)'}
                  </button>{' '}
                  {issueText(i)}
                </li>
              ))}
            </ul>
          ) : null}
        </Panel>
        <Panel title="Budget & plan">
          {config ? (
            <BudgetPanel
              config={config}
              plan={plan}
              families={planState.families}
              issues={issues}
              checking={checking}
              methodTitles={methodTitles}
              set={set}
              onSelectStep={(i) => setSelected(`step-${i}`)}
            />
          ) : (
            <p className="muted">The JSON does not parse; fix it in the JSON view.</p>
          )}
        </Panel>
        <Panel title="JSON">
          <JsonEditor
            uri="inmemory://pipelines/pipeline.json"
            value={text}
            onChange={setText}
            schema={schema.data}
            label="Pipeline config JSON"
          />
        </Panel>
      </div>
    </div>
  );
}
