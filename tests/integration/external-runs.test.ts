// A run started from the CLI showed "Starting…" forever in an open UI: its progress lived only in
// the CLI's process. Now the running host writes progress to the store and a UI-mode app relays it
// as job.progress / job.finished for that run id.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type WorkbenchApp } from '../../src-main/app/create-app';
import { externalJobId, externalRunsPoller } from '../../src-main/app/external-runs';
import type { EventName } from '../../src-main/contract/index';
import { openStore, type Store } from '../../src-main/store/index';

const root = path.resolve(__dirname, '../..');

describe('external runs poller', () => {
  let dir: string;
  let s: Store;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-ext-'));
    s = openStore(path.join(dir, 'store.db'));
  });
  afterEach(() => {
    s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('relays stored progress once per change and the end of the run', () => {
    const events: [EventName, unknown][] = [];
    // runs this process owns count as another's when the poller believes it is some other pid
    const poll = externalRunsPoller(s, (e, d) => events.push([e, d]), -1);
    const r = s.runs.create({ kind: 'eval.ppl', config: {}, appVersion: '0' });
    s.runs.markRunning(r.id);
    s.runs.setProgress(r.id, { step: 'perplexity', fraction: 0.25, layer: 1, layers: 4, etaSeconds: 3 });
    poll();
    poll();
    expect(events).toEqual([
      ['runs.changed', { runId: r.id }],
      [
        'job.progress',
        {
          jobId: externalJobId(r.id),
          runId: r.id,
          step: 'perplexity',
          layer: 1,
          layers: 4,
          fraction: 0.25,
          etaSeconds: 3,
        },
      ],
    ]);
    events.length = 0;
    s.runs.finish(r.id, 'succeeded');
    poll();
    expect(events).toEqual([
      ['runs.changed', { runId: r.id }],
      ['job.finished', { jobId: externalJobId(r.id), runId: r.id, state: 'succeeded', error: null }],
    ]);
    // this process's own runs are not relayed twice (the host already sends their events)
    const own = externalRunsPoller(s, () => events.push(['runs.changed', 'own']));
    const mine = s.runs.create({ kind: 'eval.ppl', config: {}, appVersion: '0' });
    s.runs.markRunning(mine.id);
    s.runs.setProgress(mine.id, { step: 'x', fraction: 0.5 });
    own();
    expect(events.filter(([, d]) => d === 'own')).toEqual([]);
  });
});

describe('a run started by the CLI, seen by a UI app on the same home', () => {
  let tmp: string;
  let app: WorkbenchApp;
  afterEach(async () => {
    await app?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('emits live job.progress for the CLI run and its job.finished', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moe-ext-cli-'));
    const home = path.join(tmp, 'home');
    const text = path.join(tmp, 'eval.txt');
    fs.writeFileSync(
      text,
      fs.readFileSync(path.join(root, 'resources/data/heldout/c4-heldout.txt'), 'utf8').slice(0, 12_000),
    );
    app = await createApp({ home, mode: 'browser' });
    const events: { event: EventName; data: { runId?: number | null; fraction?: number; state?: string } }[] =
      [];
    app.on((event, data) => events.push({ event, data: data as never }));
    const finished = new Promise<void>((resolve) => {
      app.on((event) => {
        if (event === 'job.finished') resolve();
      });
    });
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'bin/moe-bench.mjs'),
        '--home',
        home,
        'eval',
        'ppl',
        '--model',
        'tiny-mixtral',
        '--text',
        text,
        '--seq-len',
        '64',
        '--max-windows',
        '12',
        // one window at a time: many progress events over a few seconds, so the UI side sees some live
        '--batch',
        '1',
      ],
      { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (b) => {
      stderr += String(b);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, stderr).toBe(0);
    await Promise.race([finished, new Promise((r) => setTimeout(r, 5000))]);
    const [run] = await app.handlers['runs.list']({});
    const progress = events.filter((e) => e.event === 'job.progress' && e.data.runId === run!.id);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.data.fraction! >= 0 && p.data.fraction! <= 1)).toBe(true);
    expect(events.find((e) => e.event === 'job.finished')?.data).toMatchObject({
      runId: run!.id,
      state: 'succeeded',
    });
  }, 180_000);
});
