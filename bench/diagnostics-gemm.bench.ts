// GEMM GFLOP/s of the active backend at 256/512/1024, through the real engine host and worker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../src-main/app/create-app';

export async function run(): Promise<Record<string, number | string>> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gemm-'));
  const app = await createApp({ mode: 'cli', home });
  try {
    const job = await app.handlers['jobs.start']({
      kind: 'diagnostics.gemm',
      params: { sizes: [256, 512, 1024], seconds: 2 },
    });
    const fin = await app.waitForJob(job.jobId);
    if (fin.state !== 'succeeded') throw new Error(`gemm ${fin.state}: ${fin.error}`);
    const runDetail = await app.handlers['runs.get']({ id: fin.runId! });
    const out: Record<string, number | string> = { backend: runDetail.backend ?? '?' };
    for (const m of runDetail.metrics) out[m.name] = Number(m.value.toFixed(2));
    return out;
  } finally {
    await app.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}
