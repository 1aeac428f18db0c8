// A new sweep: a spec in the JSON editor (or one of resources/sweeps/ to start from), its plan
// (count, points to compute, reused and refused ones with why) before anything runs, then start it
// on local workers or on `moe-bench worker`s through Redis.
import type { SweepPlan } from '@contract';
import { useId, useState } from 'react';
import { useApi } from '../../api/api-context';
import { useApiQuery } from '../../hooks/use-api-query';
import { navigate } from '../../hooks/use-hash-location';
import { InlineError } from '../InlineError';
import { JsonEditor } from '../JsonEditor';

export function SweepStartForm() {
  const api = useApi();
  const examples = useApiQuery('sweeps.examples', {});
  const [text, setText] = useState('');
  const [plan, setPlan] = useState<SweepPlan | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [mode, setMode] = useState<'local' | 'redis'>('local');
  const [workers, setWorkers] = useState(1);
  const [redis, setRedis] = useState('redis://127.0.0.1:6379');
  const [busy, setBusy] = useState(false);
  const exampleId = useId();
  const workersId = useId();
  const redisId = useId();

  const parse = (): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new Error(`the spec is not JSON: ${(e as Error).message}`);
    }
  };
  const doPlan = async () => {
    setError(null);
    setPlan(null);
    try {
      setPlan(await api.call('sweeps.plan', { spec: parse() }));
    } catch (e) {
      setError(e);
    }
  };
  const doStart = async () => {
    setError(null);
    setBusy(true);
    try {
      const s = await api.call('sweeps.start', {
        spec: parse(),
        ...(mode === 'redis' ? { redis } : { workers }),
      });
      navigate(`/sweeps/${s.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const refused = plan?.items.filter((i) => i.problem !== null) ?? [];
  const reused = plan?.items.filter((i) => i.problem === null && i.reusedRun !== null).length ?? 0;
  return (
    <div className="sweep-start" data-testid="sweep-start">
      <div className="toolbar">
        <label htmlFor={exampleId}>Start from</label>
        <select
          id={exampleId}
          className="input"
          value=""
          onChange={(e) => {
            const ex = examples.data?.find((x) => x.file === e.target.value);
            if (ex) {
              setText(JSON.stringify(ex.spec, null, 2));
              setPlan(null);
            }
          }}
        >
          <option value="">an example…</option>
          {(examples.data ?? []).map((x) => (
            <option key={x.file} value={x.file}>
              {x.name} ({x.file})
            </option>
          ))}
        </select>
      </div>
      <JsonEditor
        uri="inmemory://sweeps/sweep.json"
        value={text}
        onChange={(t) => {
          setText(t);
          setPlan(null);
        }}
        label="Sweep spec JSON"
        height={300}
      />
      <div className="toolbar">
        <button type="button" className="button" disabled={!text.trim()} onClick={() => void doPlan()}>
          Plan
        </button>
        <label>
          <input
            type="radio"
            name="sweep-mode"
            checked={mode === 'local'}
            onChange={() => setMode('local')}
          />{' '}
          local workers
        </label>
        <label htmlFor={workersId} className="visually-hidden">
          Workers
        </label>
        <input
          id={workersId}
          className="input narrow"
          type="number"
          min={1}
          max={64}
          value={workers}
          disabled={mode !== 'local'}
          onChange={(e) => setWorkers(Math.max(1, Math.min(64, Math.trunc(Number(e.target.value)) || 1)))}
        />
        <label>
          <input
            type="radio"
            name="sweep-mode"
            checked={mode === 'redis'}
            onChange={() => setMode('redis')}
          />{' '}
          Redis
        </label>
        <label htmlFor={redisId} className="visually-hidden">
          Redis URL
        </label>
        <input
          id={redisId}
          className="input"
          value={redis}
          disabled={mode !== 'redis'}
          onChange={(e) => setRedis(e.target.value)}
          placeholder="redis://host:6379"
        />
        <button
          type="button"
          className="button"
          disabled={!plan || busy || plan.toCompute + reused === 0}
          onClick={() => void doStart()}
        >
          Start sweep
        </button>
      </div>
      <InlineError error={error} />
      {plan ? (
        <div className="sweep-plan" data-testid="sweep-plan">
          <p>
            <strong>{plan.name}</strong>: {plan.count} runs, {plan.toCompute} to compute, {reused} reused from
            earlier sweeps, {refused.length} refused.
            {mode === 'redis'
              ? ' Start `moe-bench worker --redis URL` on each machine that should take jobs.'
              : ''}
          </p>
          {refused.length ? (
            <div className="table-scroll">
              <table className="table compact" aria-label="Refused points">
                <thead>
                  <tr>
                    <th>point</th>
                    <th>why it is refused</th>
                  </tr>
                </thead>
                <tbody>
                  {refused.map((i) => (
                    <tr key={i.hash}>
                      <td>{i.label}</td>
                      <td>{i.problem}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
