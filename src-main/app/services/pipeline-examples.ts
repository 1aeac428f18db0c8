// `pipelines.examples`: the example pipelines of resources/pipelines/ (the README's starting
// points), read on each call so an edited example shows up without a restart.
import fs from 'node:fs';
import path from 'node:path';
import type { Handlers } from '../services';

export function pipelineExampleHandlers(resourcesDir: string | null): Pick<Handlers, 'pipelines.examples'> {
  return {
    'pipelines.examples': async () => {
      const dir = resourcesDir === null ? null : path.join(resourcesDir, 'pipelines');
      if (dir === null || !fs.existsSync(dir)) return [];
      const out: { file: string; name: string; config: unknown }[] = [];
      for (const file of fs.readdirSync(dir).sort()) {
        if (!file.endsWith('.json') || file.endsWith('.schema.json')) continue;
        try {
          const config = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;
          out.push({
            file,
            name: typeof config.name === 'string' ? config.name : file.replace(/\.json$/, ''),
            config,
          });
        } catch {
          // a broken example is skipped rather than hiding the others
        }
      }
      return out;
    },
  };
}
