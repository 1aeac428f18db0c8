// A stand-in App for transport tests: chosen handlers, the rest answer not_found; events on demand.
import { ApiError } from '../../src-main/app/api-error';
import type { App, EventListener, Handlers } from '../../src-main/app/services';
import { type EventData, type EventName, requests } from '../../src-main/contract/index';

export interface FakeApp extends App {
  emit<E extends EventName>(event: E, data: EventData<E>): void;
  calls: { method: string; params: unknown }[];
  listenerCount(): number;
}

export function fakeApp(impl: Partial<Record<keyof Handlers, (params: never) => Promise<unknown>>>): FakeApp {
  const listeners = new Set<EventListener>();
  const calls: { method: string; params: unknown }[] = [];
  const handlers = {} as Record<string, (p: unknown) => Promise<unknown>>;
  for (const method of Object.keys(requests)) {
    handlers[method] = async (params: unknown) => {
      calls.push({ method, params });
      const fn = impl[method as keyof Handlers] as ((p: unknown) => Promise<unknown>) | undefined;
      if (!fn) throw new ApiError('not_found', `${method} is not faked`);
      return fn(params);
    };
  }
  return {
    handlers: handlers as unknown as Handlers,
    calls,
    on(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    emit(event, data) {
      for (const l of listeners) l(event, data);
    },
    listenerCount: () => listeners.size,
    close: async () => {},
  };
}
