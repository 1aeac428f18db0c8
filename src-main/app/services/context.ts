// What the service modules share: the store, the engine host and app-level facts.
import type { ResolverRoots } from '../../engine/io/resolver';
import type { BackendReport, EngineHost } from '../../host/engine-host';
import type { Store } from '../../store/index';
import type { PathPolicy } from '../path-policy';
import type { AppOptions } from '../services';

export interface ServiceContext {
  store: Store;
  host: EngineHost;
  options: AppOptions;
  home: string;
  appVersion: string;
  /** where built-in models and data sets resolve (the app's resources), as jobs get them */
  roots: ResolverRoots;
  /** which paths the app's clients may name */
  paths: PathPolicy;
  /** Backend the engine workers use; probed once, in a short-lived worker. */
  backend(): Promise<BackendReport>;
}
