// What the service modules share: the store, the engine host and app-level facts.
import type { BackendReport, EngineHost } from '../../host/engine-host';
import type { Store } from '../../store/index';
import type { AppOptions } from '../services';

export interface ServiceContext {
  store: Store;
  host: EngineHost;
  options: AppOptions;
  home: string;
  appVersion: string;
  /** Backend the engine workers use; probed once, in a short-lived worker. */
  backend(): Promise<BackendReport>;
}
