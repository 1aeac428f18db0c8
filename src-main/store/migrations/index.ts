// The ordered migration registry. Migration N takes the store from user_version N-1 to N; a new
// schema change is one new file plus one line here. Never edit a migration that has shipped.
import { initial } from './001-initial';
import { metricHeadline } from './002-metric-headline';
import { stepLayers } from './003-step-layers';
import { sweeps } from './004-sweeps';
import { runProgress } from './005-run-progress';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'metric headline flag', sql: metricHeadline },
  { version: 3, name: 'layer records per step', sql: stepLayers },
  { version: 4, name: 'sweeps and their points', sql: sweeps },
  { version: 5, name: 'live progress of a running run', sql: runProgress },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
