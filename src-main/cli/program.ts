// Builds the commander program: global options shared by every command, usage errors turned into
// exceptions (exitOverride) so main() picks the exit code, and the registered commands: only the
// one the arguments name, so a light command never pays for loading the heavy ones.
import { Command, Option } from 'commander';
import { appVersion } from '../app/app-version';
import { BackendName } from '../contract/index';
import { COMMANDS, type CommandEntry } from './commands/index';
import type { CliContext, CliIo } from './context';

/** Global options that take a value (`--home DIR`), to step over when looking for the command. */
const VALUE_OPTIONS = ['--home', '--backend'];

/** The registry entries this invocation needs: the named command, or all (help, typos, none). */
export function commandsFor(
  args: readonly string[],
  registry: readonly CommandEntry[] = COMMANDS,
): CommandEntry[] {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (VALUE_OPTIONS.includes(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    const hit = registry.find((c) => c.name === a);
    return hit ? [hit] : [...registry];
  }
  return [...registry];
}

/** `argv` as process.argv has it (node, script, args…). */
export async function buildProgram(ctx: CliContext, io: CliIo, argv: readonly string[]): Promise<Command> {
  const program = new Command('moe-bench')
    .description('MoE Workbench command line: inspect, compress and evaluate Mixture-of-Experts models')
    .version(appVersion(), '-V, --version')
    .option('--home <dir>', 'store and data folder (default: MOE_WORKBENCH_HOME or the per-user data folder)')
    .addOption(new Option('--backend <name>', 'force a compute backend').choices(BackendName.options))
    .option('--json', 'print only JSON on stdout', false)
    .option('--verbose', 'show stack traces on errors', false)
    .showHelpAfterError(false)
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // main() prints usage errors as one line plus a hint
      outputError: () => {},
    })
    .exitOverride();
  const wanted = commandsFor(argv.slice(2));
  const modules = await Promise.all(wanted.map((c) => c.load()));
  for (const m of modules) m.register(program, ctx);
  return program;
}
