import { useApiQuery } from '../hooks/use-api-query';
import { ThemeToggle } from './ThemeToggle';

export function AppHeader() {
  const info = useApiQuery('app.info', {});
  return (
    <header className="app-header">
      <h1 className="app-name">MoE Workbench</h1>
      <dl className="app-facts">
        <div>
          <dt>Backend</dt>
          <dd data-testid="backend">{info.data?.backend ?? '…'}</dd>
        </div>
        <div>
          <dt>Store</dt>
          <dd className="mono" data-testid="store-path" title={info.data?.storePath}>
            {info.data?.storePath ?? '…'}
          </dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{info.data ? (info.data.mode === 'electron' ? 'desktop' : 'browser') : '…'}</dd>
        </div>
        {info.data ? (
          <div>
            <dt>Version</dt>
            <dd>{info.data.appVersion}</dd>
          </div>
        ) : null}
      </dl>
      <ThemeToggle />
    </header>
  );
}
