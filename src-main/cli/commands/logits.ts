// moe-bench logits: full next-token logits of one sequence, for parity checks against transformers.
// The same job as `moe-bench eval logits` (eval.logits), stored as a run.
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { logitsCommand } from './eval';

export function register(program: Command, ctx: CliContext): void {
  logitsCommand(program.command('logits'), ctx);
}
