// The command registry: one file per command, one line here.
import type { RegisterCommand } from '../context';
import { register as bench } from './bench';
import { register as compress } from './compress';
import { register as doctor } from './doctor';
import { register as evalCmd } from './eval';
import { register as inspect } from './inspect';
import { register as logits } from './logits';
import { register as runs } from './runs';
import { register as serve } from './serve';
import { register as tokenize } from './tokenize';

export const COMMANDS: readonly RegisterCommand[] = [
  doctor,
  runs,
  bench,
  serve,
  tokenize,
  inspect,
  evalCmd,
  logits,
  compress,
];
