// Builds the commander program: global options shared by every command, usage errors turned into
// exceptions (exitOverride) so main() picks the exit code, and the registered commands.
import { Command, Option } from 'commander';
import { appVersion } from '../app/app-version';
import { BackendName } from '../contract/index';
import { COMMANDS } from './commands/index';
import type { CliContext, CliIo } from './context';

export function buildProgram(ctx: CliContext, io: CliIo): Command {
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
  for (const register of COMMANDS) register(program, ctx);
  return program;
}
