// Evaluate a model as it is (no compression): an eval.ppl run stored as the baseline that compressed
// runs of this model compare against. The protocol fields start at the default every new pipeline
// and the first-run baseline use, so the figures line up without touching JSON.
import type { ModelRecord } from '@contract';
import { DEFAULT_PPL_PROTOCOL, evalPplParamsFor, protocolText } from '@contract/protocol';
import { useId, useState } from 'react';
import { navigate } from '../hooks/use-hash-location';
import { useJobTracker } from '../hooks/use-job-tracker';
import { modelRef } from '../pipeline/model-ref';
import { InlineError } from './InlineError';
import { Panel } from './Panel';
import { ProgressBar } from './ProgressBar';

export function EvaluateModel({ model }: { model: ModelRecord }) {
  const tracker = useJobTracker('eval.ppl');
  const [dataset, setDataset] = useState<string>(DEFAULT_PPL_PROTOCOL.dataset);
  const [seqLen, setSeqLen] = useState<number>(DEFAULT_PPL_PROTOCOL.seqLen);
  const [maxWindows, setMaxWindows] = useState<number>(DEFAULT_PPL_PROTOCOL.maxWindows);
  const ids = { dataset: useId(), seqLen: useId(), windows: useId() };
  const ref = modelRef(model);
  const protocol = {
    kind: 'ppl' as const,
    source: 'dataset' as const,
    dataset,
    split: null,
    seqLen,
    maxWindows,
    tokenizer: ref,
  };
  const job = tracker.job;
  const running = job !== null && job.finished === null;
  const finished = job?.finished ?? null;
  return (
    <Panel title="Evaluate (baseline)">
      <p className="muted small">
        Perplexity of {model.name} as it is, stored as a run that compressed runs compare against.
      </p>
      <div className="field-grid">
        <label htmlFor={ids.dataset}>Data set</label>
        <input
          id={ids.dataset}
          className="input"
          value={dataset}
          onChange={(e) => setDataset(e.target.value)}
        />
        <label htmlFor={ids.seqLen}>Sequence length</label>
        <input
          id={ids.seqLen}
          className="input"
          type="number"
          min={2}
          value={seqLen}
          onChange={(e) => setSeqLen(Number(e.target.value))}
        />
        <label htmlFor={ids.windows}>Max windows</label>
        <input
          id={ids.windows}
          className="input"
          type="number"
          min={1}
          value={maxWindows}
          onChange={(e) => setMaxWindows(Number(e.target.value))}
        />
      </div>
      <p className="small">
        Protocol: <span className="mono">{protocolText(protocol)}</span>
      </p>
      <button
        type="button"
        className="button"
        disabled={running || tracker.starting || dataset.trim() === ''}
        onClick={() => void tracker.start(evalPplParamsFor(ref, { ...protocol, dataset: dataset.trim() }))}
      >
        Evaluate
      </button>
      {running ? <ProgressBar fraction={job.progress?.fraction ?? 0} label="Evaluation progress" /> : null}
      {finished ? (
        <p data-testid="evaluate-outcome">
          {finished.state === 'succeeded' ? 'Baseline stored' : `Evaluation ${finished.state}`}
          {finished.error ? `: ${finished.error}` : ''}
          {finished.runId !== null ? (
            <>
              {' '}
              <button
                type="button"
                className="button ghost"
                onClick={() => navigate(`/runs/${finished.runId}`)}
              >
                Open run #{finished.runId}
              </button>
            </>
          ) : null}
        </p>
      ) : null}
      <InlineError error={tracker.error} />
    </Panel>
  );
}
