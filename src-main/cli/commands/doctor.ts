import type { Command } from 'commander';
import type { DoctorReport } from '../../contract/index';
import type { CliContext } from '../context';

const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;

function human(r: DoctorReport): string {
  const lines = [
    `MoE Workbench ${r.appVersion} on ${r.platform}, Node ${r.nodeVersion}`,
    `backend:        ${r.backend}`,
    ...r.backends.map((b) => `  ${b.available ? '+' : '-'} ${b.name.padEnd(9)} ${b.reason}`),
    `electron:       ${r.electronBinary.present ? r.electronBinary.path : 'absent'} (${r.electronBinary.detail})`,
    `sqlite:         ${r.sqliteVersion}`,
    `store:          ${r.storePath} (schema v${r.schemaVersion})`,
    `memory:         ${gib(r.freeMemoryBytes)} free of ${gib(r.totalMemoryBytes)}`,
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
      ctx.output(await app.handlers.doctor({}), human);
    });
}
