// Sandboxed preload: exposes `window.moeApi` with three named functions over the IPC channels
// (calls, events, the native folder choice). Payload validation happens in main; this file only forwards.
import { contextBridge, ipcRenderer } from 'electron';
import { CALL_CHANNEL, EVENT_CHANNEL, PICK_CHANNEL } from '../src-main/ipc/channels';
import type { BridgeOutcome, MoeBridge, PickOutcome } from './bridge';

type Listener = (data: unknown) => void;
const listeners = new Map<string, Set<Listener>>();

ipcRenderer.on(EVENT_CHANNEL, (_e: unknown, frame: { event?: unknown; data?: unknown }) => {
  if (typeof frame?.event !== 'string') return;
  for (const l of listeners.get(frame.event) ?? []) l(frame.data);
});

const bridge: MoeBridge = {
  call: (method, params) =>
    ipcRenderer.invoke(CALL_CHANNEL, String(method), params) as Promise<BridgeOutcome>,
  pickFolder: (purpose) => ipcRenderer.invoke(PICK_CHANNEL, String(purpose)) as Promise<PickOutcome>,
  on(event, listener) {
    if (typeof listener !== 'function') throw new TypeError('moeApi.on: listener must be a function');
    const name = String(event);
    const set = listeners.get(name) ?? new Set<Listener>();
    listeners.set(name, set);
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
};

contextBridge.exposeInMainWorld('moeApi', bridge);
