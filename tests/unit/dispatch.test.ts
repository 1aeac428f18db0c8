import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src-main/app/api-error';
import { dispatch, toErrorBody } from '../../src-main/app/dispatch';
import { fakeApp } from './server-fake-app';

const model = {
  id: 3,
  name: 'olmoe',
  path: '/m/olmoe',
  architecture: 'olmoe',
  builtin: false,
  summary: null,
  addedAt: '2026-01-01T00:00:00.000Z',
};

describe('dispatch', () => {
  it('rejects an unknown method without calling anything', async () => {
    const app = fakeApp({});
    const out = await dispatch(app, 'models.frobnicate', {});
    expect(out).toEqual({
      ok: false,
      error: { code: 'unknown_method', message: "unknown method 'models.frobnicate'" },
    });
    expect(app.calls).toHaveLength(0);
  });

  it('does not treat inherited object keys as methods', async () => {
    const out = await dispatch(fakeApp({}), 'toString', {});
    expect(out).toMatchObject({ ok: false, error: { code: 'unknown_method' } });
  });

  it('validates params against the contract and returns the zod issues', async () => {
    const app = fakeApp({ 'models.add': async () => model });
    const out = await dispatch(app, 'models.add', { path: 42, extra: true });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.code).toBe('bad_request');
    const issues = out.error.details as { path: unknown[]; code: string }[];
    expect(issues.map((i) => i.code).sort()).toEqual(['invalid_type', 'unrecognized_keys']);
    expect(app.calls).toHaveLength(0);
  });

  it('passes parsed params (with defaults) to the handler and returns its result', async () => {
    const app = fakeApp({
      'jobs.start': async () => ({
        jobId: 'j1',
        kind: 'diagnostics.gemm',
        state: 'queued',
        runId: null,
        startedAt: '2026-01-01T00:00:00.000Z',
        error: null,
      }),
    });
    const out = await dispatch(app, 'jobs.start', { kind: 'diagnostics.gemm' });
    expect(out).toMatchObject({ ok: true, result: { jobId: 'j1', state: 'queued' } });
    expect(app.calls).toEqual([{ method: 'jobs.start', params: { kind: 'diagnostics.gemm', params: {} } }]);
  });

  it('treats missing params as an empty object', async () => {
    const out = await dispatch(fakeApp({ 'models.list': async () => [model] }), 'models.list', undefined);
    expect(out).toEqual({ ok: true, result: [model] });
  });

  it('keeps the code and details of an ApiError', async () => {
    const app = fakeApp({
      'runs.get': async () => {
        throw new ApiError('not_found', 'run 9 not found', { id: 9 });
      },
    });
    expect(await dispatch(app, 'runs.get', { id: 9 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'run 9 not found', details: { id: 9 } },
    });
  });

  it('maps any other error to internal with its message only', async () => {
    const app = fakeApp({
      'models.list': async () => {
        throw new TypeError('boom');
      },
    });
    const out = await dispatch(app, 'models.list', {});
    expect(out).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
    expect(JSON.stringify(out)).not.toContain('at ');
  });

  it('ignores a code that is not a contract error code', () => {
    const err = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    expect(toErrorBody(err)).toEqual({ code: 'internal', message: 'disk full' });
  });

  it('reports a handler result that breaks the contract as internal', async () => {
    const app = fakeApp({ 'models.list': async () => [{ id: 'not-a-number' }] });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const out = await dispatch(app, 'models.list', {});
    expect(logged).toHaveBeenCalledOnce();
    logged.mockRestore();
    expect(out).toMatchObject({
      ok: false,
      error: { code: 'internal', message: "'models.list' produced an invalid result" },
    });
  });
});
