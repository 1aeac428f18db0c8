// `moe-bench`: the automation interface over the same services as the app. Exit codes: 0 success,
// 1 runtime failure, 2 usage error. Errors are one line plus a hint; stacks only with --verbose.
// Only light modules load up front: commands import what they need (store, engine, tfjs) when
// they run, so `--help`, usage errors and light commands start fast.
import { CommanderError } from 'commander';
import { describeError } from './app/api-error';
import type { WorkbenchApp } from './app/create-app';
import { CliError } from './cli/cli-error';
import { type CliContext, type CliIo, type GlobalOptions, readJsonFile } from './cli/context';
import { installInterrupts } from './cli/interrupts';
import { buildProgram } from './cli/program';

const processIo: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

function describe(err: unknown): { code: number; message: string; hint?: string | undefined } {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) {
      return { code: 0, message: '' };
    }
    // no command given: commander has already printed the help to stderr
    if (err.code === 'commander.help') return { code: 2, message: '' };
    const message = err.message.replace(/^error: /, '');
    return { code: 2, message, hint: "run 'moe-bench --help' (or 'moe-bench COMMAND --help') for usage" };
  }
  // the app's mapping (message and hint); the exit code is the CLI's: 2 usage (CliError says), 1 else
  const { message, hint } = describeError(err);
  return { code: err instanceof CliError ? err.exitCode : 1, message, hint };
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let app = null as Promise<WorkbenchApp> | null;
  const interrupts = installInterrupts(
    (line) => io.stderr(`${line}\n`),
    (code) => process.exit(code),
  );
  let program: Awaited<ReturnType<typeof buildProgram>> | null = null;
  const globals = (): GlobalOptions => {
    const o = program?.opts() ?? {};
    return { home: o.home, backend: o.backend, json: Boolean(o.json), verbose: Boolean(o.verbose) };
  };
  const ctx: CliContext = {
    io,
    globals,
    app: () => {
      const g = globals();
      app ??= import('./app/create-app').then(({ createApp }) =>
        createApp({ mode: 'cli', home: g.home, backend: g.backend }),
      );
      return app;
    },
    output(data, human) {
      io.stdout(globals().json ? `${JSON.stringify(data, null, 2)}\n` : `${human(data)}\n`);
    },
    progress: (line) => io.stderr(`${line}\n`),
    readJsonFile,
    onInterrupt: interrupts.onInterrupt,
  };
  let code = 0;
  try {
    program = await buildProgram(ctx, io, argv);
    await program.parseAsync(argv);
  } catch (err) {
    const d = describe(err);
    code = d.code;
    if (d.message) {
      io.stderr(`moe-bench: ${d.message.split('\n')[0]}\n`);
      if (d.hint) io.stderr(`hint: ${d.hint}\n`);
      const verbose = globals().verbose || argv.includes('--verbose');
      if (verbose && err instanceof Error && err.stack) io.stderr(`${err.stack}\n`);
    }
  } finally {
    interrupts.uninstall();
    if (app) {
      try {
        await (await app).close();
      } catch {
        // the app never opened (e.g. unwritable store): the error above already says why
      }
    }
  }
  return code;
}
