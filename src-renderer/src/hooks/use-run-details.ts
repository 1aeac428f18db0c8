// Full records (metrics, layers, config) of several runs, loaded in parallel and kept per id.
import type { RunDetail } from '@contract';
import { useEffect, useState } from 'react';
import { useApi } from '../api/api-context';

export function useRunDetails(ids: readonly number[]): {
  runs: RunDetail[];
  error: unknown;
  loading: boolean;
} {
  const api = useApi();
  const [cache, setCache] = useState<Map<number, RunDetail>>(new Map());
  const [error, setError] = useState<unknown>(null);
  const key = ids.join(',');
  useEffect(() => {
    let alive = true;
    const wanted = key ? key.split(',').map(Number) : [];
    Promise.all(wanted.map((id) => api.call('runs.get', { id }))).then(
      (list) => {
        if (!alive) return;
        setCache(new Map(list.map((d) => [d.id, d])));
        setError(null);
      },
      (e: unknown) => alive && setError(e),
    );
    return () => {
      alive = false;
    };
  }, [api, key]);
  const runs = ids.map((id) => cache.get(id)).filter((d): d is RunDetail => d !== undefined);
  return { runs, error, loading: runs.length < ids.length && !error };
}
