import { DiagnosticsPanel } from '../components/DiagnosticsPanel';
import { ModelsPanel } from '../components/ModelsPanel';
import { RunsPanel } from '../components/RunsPanel';

export function OverviewPage() {
  return (
    <div className="overview-grid">
      <ModelsPanel />
      <DiagnosticsPanel />
      <div className="span-all">
        <RunsPanel />
      </div>
    </div>
  );
}
