// The renderer's one way to reach the workbench: typed calls and events from the contract, over
// whichever transport this window was started with.
import type { EventData, EventName, Method, Params, Result } from '@contract';
import { ApiCallError } from './api-call-error';
import type { ConnectionState, Transport } from './transport';

export interface ApiClient {
  readonly transport: Transport['kind'];
  call<M extends Method>(method: M, params: Params<M>): Promise<Result<M>>;
  on<E extends EventName>(event: E, listener: (data: EventData<E>) => void): () => void;
  onState(listener: (state: ConnectionState) => void): () => void;
  readonly state: ConnectionState;
}

export function createApiClient(transport: Transport): ApiClient {
  return {
    transport: transport.kind,
    async call(method, params) {
      const outcome = await transport.request(method, params);
      if (!outcome.ok) throw ApiCallError.fromBody(outcome.error);
      return outcome.result as Result<typeof method>;
    },
    // The main side validated event payloads against the contract before sending them.
    on: (event, listener) => transport.onEvent(event, (data) => listener(data as EventData<typeof event>)),
    onState: (listener) => transport.onState(listener),
    get state() {
      return transport.state;
    },
  };
}
