// The app version from package.json. Sources (src-main/app) and the bundle (out/main) both sit two
// folders below the package root.
import fs from 'node:fs';

let cached: string | null = null;

export function appVersion(): string {
  if (cached === null) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: string;
      };
      cached = pkg.version ?? '0.0.0';
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
