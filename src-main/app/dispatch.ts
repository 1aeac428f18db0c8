// The one request path shared by Electron IPC and the WebSocket server: name check, params
// validation against the contract, the handler call, result validation, and error mapping. A
// transport only frames what this returns.
import { type ApiErrorBody, isMethod, requests } from '../contract/index';
import { toErrorBody } from './api-error';
import type { App } from './services';

export type DispatchOutcome = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

export async function dispatch(app: App, method: string, rawParams: unknown): Promise<DispatchOutcome> {
  if (!isMethod(method)) {
    return { ok: false, error: { code: 'unknown_method', message: `unknown method '${method}'` } };
  }
  const spec = requests[method];
  const params = spec.params.safeParse(rawParams ?? {});
  if (!params.success) {
    return {
      ok: false,
      error: { code: 'bad_request', message: `invalid params for '${method}'`, details: params.error.issues },
    };
  }
  let raw: unknown;
  try {
    // The method/params pairing is guaranteed by the lookup above; TS cannot correlate the union.
    const handler = app.handlers[method] as (p: unknown) => Promise<unknown>;
    raw = await handler(params.data);
  } catch (err) {
    return { ok: false, error: toErrorBody(err) };
  }
  const result = spec.result.safeParse(raw);
  if (!result.success) {
    // A handler broke the contract: a bug on our side, not the caller's.
    console.error(
      `[dispatch] '${method}' returned a result that does not match the contract`,
      result.error.issues,
    );
    return { ok: false, error: { code: 'internal', message: `'${method}' produced an invalid result` } };
  }
  return { ok: true, result: result.data };
}
