import { DiagnosticsPanel } from '../components/DiagnosticsPanel';
import { GettingStarted } from '../components/GettingStarted';
import { ModelsPanel } from '../components/ModelsPanel';
import { RunsPanel } from '../components/RunsPanel';

export function OverviewPage() {
  return (
    <div className="overview-grid">
      <div className="span-all">
        <GettingStarted />
      </div>
      <ModelsPanel />
      <DiagnosticsPanel />
      <div className="span-all">
        <RunsPanel />
      </div>
    </div>
  );
}
