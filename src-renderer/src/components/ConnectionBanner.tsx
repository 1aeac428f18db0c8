import { useConnectionState } from '../hooks/use-connection-state';

export function ConnectionBanner() {
  const state = useConnectionState();
  if (state === 'open') return null;
  return (
    <div className="banner" role="status">
      {state === 'connecting' ? 'Connecting to the workbench…' : 'Connection lost, reconnecting…'}
    </div>
  );
}
