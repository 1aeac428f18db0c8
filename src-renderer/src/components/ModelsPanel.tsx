import { useApiQuery } from '../hooks/use-api-query';
import { AddModelForm } from './AddModelForm';
import { InlineError } from './InlineError';
import { ModelList } from './ModelList';
import { Panel } from './Panel';

export function ModelsPanel() {
  const models = useApiQuery('models.list', {}, ['models.changed']);
  return (
    <Panel title="Models">
      {models.data ? (
        <ModelList models={models.data} />
      ) : models.loading ? (
        <p className="muted">Loading…</p>
      ) : null}
      <InlineError error={models.error} />
      <AddModelForm onAdded={models.reload} />
    </Panel>
  );
}
