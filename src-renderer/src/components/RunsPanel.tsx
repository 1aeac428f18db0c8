import { useApiQuery } from '../hooks/use-api-query';
import { InlineError } from './InlineError';
import { Panel } from './Panel';
import { RunsTable } from './RunsTable';

export function RunsPanel() {
  const runs = useApiQuery('runs.list', { limit: 200 }, ['runs.changed']);
  return (
    <Panel
      title="Runs"
      actions={
        <button type="button" className="button ghost" onClick={runs.reload} disabled={runs.loading}>
          Refresh
        </button>
      }
    >
      {runs.data ? <RunsTable runs={runs.data} /> : runs.loading ? <p className="muted">Loading…</p> : null}
      <InlineError error={runs.error} />
    </Panel>
  );
}
