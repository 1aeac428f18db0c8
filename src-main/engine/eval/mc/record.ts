// How multiple-choice results become run metrics (contract/metrics.ts): acc, accNorm and their
// standard errors per task (the metric's dataset = the task), and accAvg, the unweighted mean acc
// over the tasks scored (the "Avg" column of the reference papers), as the headline.
import type { JobRecorder } from '../../jobs/job-context';
import type { McTaskResult } from './evaluate';

export function recordMcResults(record: JobRecorder, results: readonly McTaskResult[]): void {
  if (results.length === 0) return;
  for (const r of results) {
    record.metric('acc', r.acc, { dataset: r.task });
    if (r.acc_stderr !== null) record.metric('accStderr', r.acc_stderr, { dataset: r.task });
    if (r.acc_norm !== undefined) record.metric('accNorm', r.acc_norm, { dataset: r.task });
    if (r.acc_norm_stderr != null) record.metric('accNormStderr', r.acc_norm_stderr, { dataset: r.task });
    record.metric('mcDocs', r.n, { dataset: r.task });
  }
  record.metric('accAvg', results.reduce((s, r) => s + r.acc, 0) / results.length, { headline: true });
}
