// Electron transport: the preload's `window.moeApi`. IPC cannot drop, so it is always open.
import type { MoeBridge } from '../../../src-preload/bridge';
import type { Transport } from './transport';

export function ipcTransport(bridge: MoeBridge): Transport {
  return {
    kind: 'ipc',
    state: 'open',
    request: (method, params) => bridge.call(method, params),
    onEvent: (event, listener) => bridge.on(event, listener),
    onState: () => () => {},
    close: () => {},
  };
}
