// Zero-shot multiple-choice accuracy per task and run (the `acc` metrics an eval.mc or compress
// run records with the task as their dataset), as rows a grouped bar chart or a table reads.
import type { RunDetail } from '@contract';

export interface TaskAccuracyRow {
  task: string;
  /** per run id: acc on this task, null when the run did not score it */
  acc: Record<number, number | null>;
}

/** One row per task any run scored, in first-recorded order. */
export function taskAccuracyRows(runs: readonly RunDetail[]): TaskAccuracyRow[] {
  const tasks: string[] = [];
  const per = runs.map((r) => {
    const m = new Map<string, number>();
    for (const x of r.metrics) {
      if (x.name !== 'acc' || x.dataset === null || m.has(x.dataset)) continue;
      m.set(x.dataset, x.value);
      if (!tasks.includes(x.dataset)) tasks.push(x.dataset);
    }
    return m;
  });
  return tasks.map((task) => ({
    task,
    acc: Object.fromEntries(runs.map((r, i) => [r.id, per[i]!.get(task) ?? null])),
  }));
}
