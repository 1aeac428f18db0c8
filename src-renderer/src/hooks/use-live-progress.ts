// The latest progress fraction of every running run, from job.progress events (this app's jobs
// and, relayed from the store, runs another process such as the CLI is running); a run leaves the
// map when its job finishes. For lists that show many runs at once.
import { useEffect, useState } from 'react';
import { useApi } from '../api/api-context';

export function useLiveProgress(): ReadonlyMap<number, number> {
  const api = useApi();
  const [map, setMap] = useState<ReadonlyMap<number, number>>(new Map());
  useEffect(() => {
    const offP = api.on('job.progress', (p) => {
      if (p.runId === null) return;
      const runId = p.runId;
      setMap((m) => (m.get(runId) === p.fraction ? m : new Map(m).set(runId, p.fraction)));
    });
    const offF = api.on('job.finished', (f) => {
      if (f.runId === null) return;
      const runId = f.runId;
      setMap((m) => {
        if (!m.has(runId)) return m;
        const next = new Map(m);
        next.delete(runId);
        return next;
      });
    });
    return () => {
      offP();
      offF();
    };
  }, [api]);
  return map;
}
