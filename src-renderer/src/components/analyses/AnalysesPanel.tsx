// Sensitivity analyses of one model: start one (kind, calibration, per-kind settings), follow its
// progress, and look at the stored ones — every `analysis.*` run linked to this model — inline.
import { ANALYSIS_KINDS, ANALYSIS_TITLES, type AnalysisKind, analysisOfKind } from '@contract/analyses';
import { useEffect, useId, useState } from 'react';
import { type AnalysisForm, analysisJobParams, DEFAULT_FORM } from '../../analyses/analysis-form';
import { useApi } from '../../api/api-context';
import { formatTimestamp } from '../../format/run-format';
import { useApiQuery } from '../../hooks/use-api-query';
import { InlineError } from '../InlineError';
import { Panel } from '../Panel';
import { ProgressBar } from '../ProgressBar';
import { StatusBadge } from '../StatusBadge';
import { AnalysisView } from './AnalysisView';

export function AnalysesPanel({
  model,
  modelId,
  title = 'Analyses',
}: {
  /** what the job's `model` param is: the model's folder */
  model: string;
  /** the store's model the runs are linked to; null lists none (runs started here are still shown) */
  modelId: number | null;
  title?: string;
}) {
  const runs = useApiQuery('runs.table', {}, ['runs.changed']);
  const [started, setStarted] = useState<number[]>([]);
  const mine = (runs.data ?? []).filter(
    (r) =>
      analysisOfKind(r.kind) !== null &&
      ((modelId !== null && r.modelId === modelId) || started.includes(r.id)),
  );
  const [shown, setShown] = useState<number | null>(null);
  const current = shown ?? mine[0]?.id ?? null;
  return (
    <Panel title={title}>
      <AnalysisStartForm
        model={model}
        onStarted={(runId) => {
          setStarted((s) => [...s, runId]);
          setShown(runId);
          runs.reload();
        }}
      />
      <InlineError error={runs.error} />
      {mine.length === 0 ? (
        <p className="muted" data-testid="analyses-empty">
          No analyses of this model yet.
        </p>
      ) : (
        <ul className="select-list" aria-label="Stored analyses">
          {mine.map((r) => (
            <li key={r.id} className={r.id === current ? 'selected' : undefined}>
              <button
                type="button"
                className="select-item"
                aria-pressed={r.id === current}
                onClick={() => setShown(r.id)}
              >
                <span>{ANALYSIS_TITLES[analysisOfKind(r.kind)!]}</span> <StatusBadge status={r.status} />
                <span className="muted small">
                  {' '}
                  #{r.id} · {formatTimestamp(r.createdAt)}
                </span>
              </button>
              <a className="small" href={`#/runs/${r.id}`}>
                run page
              </a>
            </li>
          ))}
        </ul>
      )}
      {current !== null ? <StoredAnalysis key={current} runId={current} /> : null}
    </Panel>
  );
}

function StoredAnalysis({ runId }: { runId: number }) {
  const run = useApiQuery('runs.get', { id: runId }, ['runs.changed']);
  const d = run.data;
  if (!d) return run.error ? <InlineError error={run.error} /> : <p className="muted">Loading…</p>;
  const kind = analysisOfKind(d.kind);
  if (!kind) return null;
  return (
    <section aria-label={`Analysis run ${d.id}`} data-testid="stored-analysis">
      <h3 className="section-title">
        {ANALYSIS_TITLES[kind]} · run #{d.id}
      </h3>
      {d.error ? <p className="inline-error">{d.error}</p> : null}
      <AnalysisView kind={kind} layers={d.layers} />
    </section>
  );
}

function AnalysisStartForm({ model, onStarted }: { model: string; onStarted: (runId: number) => void }) {
  const api = useApi();
  const ids = useId();
  const methods = useApiQuery('methods.list', {});
  const [form, setForm] = useState<AnalysisForm>(DEFAULT_FORM);
  const [error, setError] = useState<unknown>(null);
  const [job, setJob] = useState<{ jobId: string; fraction: number; step: string } | null>(null);
  const set = <K extends keyof AnalysisForm>(k: K, v: AnalysisForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const jobId = job?.jobId ?? null;
  useEffect(() => {
    if (jobId === null) return;
    const offP = api.on('job.progress', (p) => {
      if (p.jobId === jobId) setJob((j) => (j ? { ...j, fraction: p.fraction, step: p.step } : j));
    });
    const offF = api.on('job.finished', (f) => {
      if (f.jobId !== jobId) return;
      setJob(null);
      if (f.state !== 'succeeded')
        setError(new Error(`The analysis ${f.state}${f.error ? `: ${f.error}` : ''}.`));
    });
    return () => {
      offP();
      offF();
    };
  }, [api, jobId]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const params = analysisJobParams(form, model);
      const info = await api.call('jobs.start', { kind: `analysis.${form.kind}`, params });
      if (info.state === 'queued' || info.state === 'running')
        setJob({ jobId: info.jobId, fraction: 0, step: 'starting' });
      else if (info.error) setError(new Error(info.error));
      if (info.runId !== null) onStarted(info.runId);
    } catch (err) {
      setError(err);
    }
  };
  const field = (key: keyof AnalysisForm, label: string, hint?: string) => (
    <div className="field">
      <label htmlFor={`${ids}-${key}`}>{label}</label>
      <input
        id={`${ids}-${key}`}
        className="input"
        type="text"
        value={String(form[key])}
        title={hint}
        onChange={(e) => set(key, e.target.value as never)}
      />
    </div>
  );
  return (
    <form className="inline-form analysis-form" onSubmit={submit} noValidate aria-label="Start an analysis">
      <div className="field">
        <label htmlFor={`${ids}-kind`}>Analysis</label>
        <select
          id={`${ids}-kind`}
          className="input"
          value={form.kind}
          onChange={(e) => set('kind', e.target.value as AnalysisKind)}
        >
          {ANALYSIS_KINDS.map((k) => (
            <option key={k} value={k}>
              {ANALYSIS_TITLES[k]}
            </option>
          ))}
        </select>
      </div>
      {field('calibSamples', 'Calibration samples')}
      {field('calibSeqLen', 'Tokens per sample')}
      {field('layers', 'Layers', 'comma-separated; empty = every MoE layer')}
      {form.kind === 'routing' ? field('minTokens', 'Covered at ≥ tokens') : null}
      {form.kind === 'similarity' ? field('ckaTokens', 'CKA tokens') : null}
      {form.kind === 'energy' ? (
        <label className="checkbox">
          <input
            type="checkbox"
            checked={form.whitened}
            onChange={(e) => set('whitened', e.target.checked)}
          />{' '}
          Whitened (SVD-LLM)
        </label>
      ) : null}
      {form.kind === 'sensitivity' ? (
        <>
          <div className="field">
            <label htmlFor={`${ids}-method`}>Method</label>
            <select
              id={`${ids}-method`}
              className="input"
              value={form.method}
              onChange={(e) => set('method', e.target.value)}
            >
              {(methods.data ?? [{ id: form.method, title: form.method }]).map((m) => (
                <option key={m.id} value={m.id}>
                  {m.title} ({m.id})
                </option>
              ))}
            </select>
          </div>
          {field('ratio', 'Ratio per layer', "share of the layer's routed-expert parameters removed")}
          {field('dataset', 'Perplexity data set')}
          {field('seqLen', 'Window')}
          {field('maxWindows', 'Max windows', 'empty = every window')}
        </>
      ) : null}
      <button type="submit" className="button" disabled={job !== null}>
        {job ? 'Running…' : 'Run analysis'}
      </button>
      {job ? <ProgressBar fraction={job.fraction} label={`Analysis progress: ${job.step}`} /> : null}
      <InlineError error={error} />
    </form>
  );
}
