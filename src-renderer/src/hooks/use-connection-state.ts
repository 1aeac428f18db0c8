import { useEffect, useState } from 'react';
import { useApi } from '../api/api-context';
import type { ConnectionState } from '../api/transport';

export function useConnectionState(): ConnectionState {
  const api = useApi();
  const [state, setState] = useState(api.state);
  useEffect(() => {
    setState(api.state);
    return api.onState(setState);
  }, [api]);
  return state;
}
