import os from 'node:os';
import type { DoctorReport } from '../../contract/index';
import { BackendUnavailableError } from '../../engine/tensor/backend-error';
import { findElectronBinary } from '../electron-binary';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

export function infoHandlers(ctx: ServiceContext): Pick<Handlers, 'app.info' | 'doctor'> {
  return {
    'app.info': async () => ({
      appVersion: ctx.appVersion,
      backend: (await ctx.backend()).active,
      storePath: ctx.store.path,
      mode: ctx.options.mode === 'electron' ? 'electron' : 'browser',
    }),
    // The report is most needed when the backend fails: it then says why, per backend.
    doctor: async () => {
      let backend: Pick<DoctorReport, 'backend' | 'backends' | 'error'>;
      try {
        const r = await ctx.backend();
        backend = { backend: r.active, backends: r.probes };
      } catch (e) {
        if (!(e instanceof BackendUnavailableError)) throw e;
        backend = { backend: null, backends: e.probes, error: e.message };
      }
      return {
        appVersion: ctx.appVersion,
        nodeVersion: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        ...backend,
        electronBinary: findElectronBinary(),
        sqliteVersion: ctx.store.sqliteVersion(),
        storePath: ctx.store.path,
        schemaVersion: ctx.store.schemaVersion(),
        freeMemoryBytes: os.freemem(),
        totalMemoryBytes: os.totalmem(),
        cpus: os.cpus().length,
      };
    },
  };
}
