// Loads one API method's result and reloads it when any of the given events arrives or the
// connection comes back (events may have been missed while it was down).
import type { EventName, Method, Params, Result } from '@contract';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../api/api-context';

export interface QueryState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useApiQuery<M extends Method>(
  method: M,
  params: Params<M>,
  refreshOn: readonly EventName[] = [],
): QueryState<Result<M>> {
  const api = useApi();
  const [data, setData] = useState<Result<M>>();
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const paramsKey = JSON.stringify(params);
  const latest = useRef(0);

  const reload = useCallback(() => {
    const ticket = ++latest.current;
    setLoading(true);
    api.call(method, JSON.parse(paramsKey) as Params<M>).then(
      (result) => {
        if (ticket !== latest.current) return; // an older answer arriving late
        setData(result);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (ticket !== latest.current) return;
        setError(err);
        setLoading(false);
      },
    );
  }, [api, method, paramsKey]);

  const eventsKey = refreshOn.join(',');
  useEffect(() => {
    reload();
    const offs = eventsKey ? eventsKey.split(',').map((e) => api.on(e as EventName, () => reload())) : [];
    offs.push(
      api.onState((s) => {
        if (s === 'open') reload();
      }),
    );
    return () => {
      for (const off of offs) off();
    };
  }, [api, reload, eventsKey]);

  return { data, error, loading, reload };
}
