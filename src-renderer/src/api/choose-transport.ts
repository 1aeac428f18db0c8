// Picked once at startup: the Electron preload bridge when present, else the browser-mode socket.
import { ipcTransport } from './ipc-transport';
import type { Transport } from './transport';
import { apiUrlFromLocation, wsTransport } from './ws-transport';

export type TransportChoice = { ok: true; transport: Transport } | { ok: false; reason: string };

export function chooseTransport(win: Window): TransportChoice {
  if (win.moeApi) return { ok: true, transport: ipcTransport(win.moeApi) };
  const url = apiUrlFromLocation(win.location);
  if (!url) {
    return {
      ok: false,
      reason:
        'This page needs the access token. Open the full URL printed by `moe-bench serve` (it ends in ?token=…).',
    };
  }
  return { ok: true, transport: wsTransport(url) };
}
