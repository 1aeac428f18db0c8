// Where the workbench keeps its data: --home DIR > MOE_WORKBENCH_HOME > the per-user default.
import os from 'node:os';
import path from 'node:path';

export const STORE_FILE_NAME = 'workbench.sqlite';

export interface HomeEnv {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  homedir: string;
}

const systemEnv = (): HomeEnv => ({ platform: process.platform, env: process.env, homedir: os.homedir() });

export function defaultHome(sys: HomeEnv = systemEnv()): string {
  if (sys.platform === 'darwin')
    return path.join(sys.homedir, 'Library', 'Application Support', 'MoE Workbench');
  if (sys.platform === 'win32') {
    const appData = sys.env.APPDATA || path.join(sys.homedir, 'AppData', 'Roaming');
    return path.join(appData, 'MoE Workbench');
  }
  const xdg = sys.env.XDG_DATA_HOME || path.join(sys.homedir, '.local', 'share');
  return path.join(xdg, 'moe-workbench');
}

export function resolveHome(explicit: string | undefined, sys: HomeEnv = systemEnv()): string {
  const chosen = explicit || sys.env.MOE_WORKBENCH_HOME || defaultHome(sys);
  return path.resolve(chosen);
}

export function storePathIn(home: string): string {
  return path.join(home, STORE_FILE_NAME);
}
