// The command registry: one file per command, one line here. Command files load lazily: an
// invocation imports only the command it names (all of them for top-level help and usage errors).
import type { RegisterCommand } from '../context';

export interface CommandEntry {
  /** the top-level command name the module registers */
  name: string;
  load: () => Promise<{ register: RegisterCommand }>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'doctor', load: () => import('./doctor') },
  { name: 'runs', load: () => import('./runs') },
  { name: 'bench', load: () => import('./bench') },
  { name: 'serve', load: () => import('./serve') },
  { name: 'tokenize', load: () => import('./tokenize') },
  { name: 'inspect', load: () => import('./inspect') },
  { name: 'eval', load: () => import('./eval') },
  { name: 'logits', load: () => import('./logits') },
  { name: 'compress', load: () => import('./compress') },
  { name: 'plan', load: () => import('./plan') },
  { name: 'export', load: () => import('./export') },
  { name: 'report', load: () => import('./report') },
  { name: 'sweep', load: () => import('./sweep') },
  { name: 'worker', load: () => import('./worker') },
  { name: 'analyze', load: () => import('./analyze') },
];
