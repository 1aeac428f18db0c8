// `sweeps.examples`: the example sweep specs of resources/sweeps/, read on each call so an edited
// example shows up without a restart; a file that is not JSON is skipped, not fatal.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from '../services';

export function sweepExampleHandlers(resourcesDir: string | null): Pick<Handlers, 'sweeps.examples'> {
  return {
    'sweeps.examples': async () => {
      const dir = resourcesDir === null ? null : path.join(resourcesDir, 'sweeps');
      if (dir === null || !fs.existsSync(dir)) return [];
      const out: { file: string; name: string; spec: unknown }[] = [];
      for (const file of fs.readdirSync(dir).sort()) {
        if (!file.endsWith('.json') || file.endsWith('.schema.json')) continue;
        try {
          const spec = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
          out.push({
            file,
            name: typeof spec.name === 'string' ? spec.name : file.replace(/\.json$/, ''),
            spec,
          });
        } catch {
          // a broken example is skipped rather than hiding the others
        }
      }
      return out;
    },
  };
}
