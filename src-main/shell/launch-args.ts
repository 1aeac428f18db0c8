// --home / --backend for the desktop app, from the Electron command line (same meaning as the CLI;
// MOE_WORKBENCH_HOME and MOE_BACKEND are read where the CLI reads them).
import { BackendName } from '../contract/index';

export interface LaunchArgs {
  home: string | undefined;
  backend: BackendName | undefined;
}

function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

export function parseLaunchArgs(argv: readonly string[]): LaunchArgs {
  const home = flagValue(argv, '--home');
  const backendText = flagValue(argv, '--backend');
  if (backendText === undefined) return { home, backend: undefined };
  const backend = BackendName.safeParse(backendText);
  if (!backend.success) {
    throw new Error(`--backend: expected one of ${BackendName.options.join(', ')}, got '${backendText}'`);
  }
  return { home, backend: backend.data };
}
