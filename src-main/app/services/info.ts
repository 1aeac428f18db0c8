import os from 'node:os';
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
    doctor: async () => {
      const backend = await ctx.backend();
      return {
        appVersion: ctx.appVersion,
        nodeVersion: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        backend: backend.active,
        backends: backend.probes,
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
