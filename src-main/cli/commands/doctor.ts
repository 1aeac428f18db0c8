import type { Command } from 'commander';
import type { BackendName, DoctorReport } from '../../contract/index';
import { formatBytes } from '../../contract/units';
import { backendHint } from '../../engine/tensor/backend-error';
import { CliError } from '../cli-error';
import type { CliContext } from '../context';

function human(r: DoctorReport): string {
  const lines = [
    `MoE Workbench ${r.appVersion} on ${r.platform}, Node ${r.nodeVersion}`,
    `backend:        ${r.backend ?? `none (${r.error ?? 'unavailable'})`}`,
    ...r.backends.map((b) => `  ${b.available ? '+' : '-'} ${b.name.padEnd(9)} ${b.reason}`),
    `electron:       ${r.electronBinary.present ? r.electronBinary.path : 'absent'} (${r.electronBinary.detail})`,
    `sqlite:         ${r.sqliteVersion}`,
    `store:          ${r.storePath} (schema v${r.schemaVersion})`,
    `memory:         ${formatBytes(r.freeMemoryBytes)} free of ${formatBytes(r.totalMemoryBytes)}`,
    `cpus:           ${r.cpus}`,
  ];
  return lines.join('\n');
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('report the compute backend, Electron, SQLite, store and machine')
    .action(async () => {
      const app = await ctx.app();
      const report = await app.handlers.doctor({});
      ctx.output(report, human);
      // the report is out (with --json, `error` says the same): now fail the command
      if (report.error) {
        const forced = ctx.globals().backend ?? (process.env.MOE_BACKEND as BackendName | undefined);
        throw new CliError(report.error, { hint: backendHint(forced) });
      }
    });
}
