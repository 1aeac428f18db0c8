import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ApiError, toErrorBody } from '../../src-main/app/api-error';
import { dispatch } from '../../src-main/app/dispatch';
import { EngineError } from '../../src-main/engine/errors';
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

  it('maps bad input, bad params and constraint failures the same way the handler guard does', () => {
    expect(toErrorBody(new EngineError('no such file', { file: 'x.json', hint: 'pass --model' }))).toEqual({
      code: 'bad_request',
      message: 'x.json: no such file (pass --model)',
    });
    const zod = z.object({ n: z.number() }).safeParse({ n: 'a' }).error!;
    expect(toErrorBody(zod)).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/^n: /) });
    const sqlite = Object.assign(new Error('UNIQUE constraint failed'), { code: 'SQLITE_CONSTRAINT_UNIQUE' });
    expect(toErrorBody(sqlite)).toEqual({ code: 'conflict', message: 'UNIQUE constraint failed' });
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

  it('checks pipelines.plan params and passes a plan through the contract', async () => {
    const plan = {
      model: 'tiny-mixtral',
      architecture: 'mixtral',
      paramsBefore: 1000,
      paramsAfter: 700,
      weightBytesBefore: 4000,
      weightBytesAfter: 2800,
      achievedRatio: 0.3,
      targetRatio: 0.3,
      tolerance: 0.01,
      problem: null,
      steps: [
        {
          method: 'svd',
          family: 'D',
          amount: { kind: 'share', family: 'D', contribution: 1 },
          noop: false,
          knobs: { rank: 12 },
          paramsAfter: 700,
          weightBytesAfter: 2800,
          ratioAfter: 0.3,
        },
      ],
    };
    const app = fakeApp({
      'pipelines.plan': async () => ({ ok: true, issues: [], plan, budgetFamilies: ['D'] }),
    });
    expect(await dispatch(app, 'pipelines.plan', { config: { a: 1 }, extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
    expect(app.calls).toHaveLength(0);
    const out = await dispatch(app, 'pipelines.plan', { config: { a: 1 } });
    expect(out).toEqual({ ok: true, result: { ok: true, issues: [], plan, budgetFamilies: ['D'] } });
    expect(app.calls).toEqual([{ method: 'pipelines.plan', params: { config: { a: 1 } } }]);
  });

  it('refuses a plan or method list that breaks the contract (unknown family letter)', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    const app = fakeApp({
      'pipelines.plan': async () => ({ ok: false, issues: [], plan: null, budgetFamilies: ['X'] }),
      'methods.list': async () => [
        { id: 'svd', family: 'Z', title: 'SVD', description: '', knob: 'rank', paramsSchema: {} },
      ],
    });
    expect(await dispatch(app, 'pipelines.plan', { config: {} })).toMatchObject({
      ok: false,
      error: { code: 'internal' },
    });
    expect(await dispatch(app, 'methods.list', {})).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect(logged).toHaveBeenCalledTimes(2);
    logged.mockRestore();
  });
});
