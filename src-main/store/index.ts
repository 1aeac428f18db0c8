// The experiment store: one SQLite file, opened once per process, with small repositories on top.
// Never imports tfjs.
import {
  type Db,
  LATEST_SCHEMA_VERSION,
  type OpenOptions,
  openDatabase,
  schemaVersionOf,
} from './open-database';
import { type DatasetsRepo, datasetsRepo } from './repos/datasets';
import { type ModelsRepo, modelsRepo } from './repos/models';
import { type PipelinesRepo, pipelinesRepo } from './repos/pipelines';
import { type RunsRepo, runsRepo } from './repos/runs';
import { type SweepsRepo, sweepsRepo } from './repos/sweeps';

export { defaultHome, resolveHome, storePathIn } from './paths';
export { StoreError } from './store-error';
export { LATEST_SCHEMA_VERSION };

export interface Store {
  readonly path: string;
  readonly db: Db;
  readonly models: ModelsRepo;
  readonly datasets: DatasetsRepo;
  readonly pipelines: PipelinesRepo;
  readonly runs: RunsRepo;
  readonly sweeps: SweepsRepo;
  schemaVersion(): number;
  sqliteVersion(): string;
  close(): void;
}

export function openStore(file: string, opts: OpenOptions = {}): Store {
  const db = openDatabase(file, opts);
  return {
    path: file,
    db,
    models: modelsRepo(db),
    datasets: datasetsRepo(db),
    pipelines: pipelinesRepo(db),
    runs: runsRepo(db),
    sweeps: sweepsRepo(db),
    schemaVersion: () => schemaVersionOf(db),
    sqliteVersion: () => (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v,
    close: () => {
      if (db.open) db.close();
    },
  };
}
