import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../api-error';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

/** A model folder must exist and hold a readable config.json; deeper inspection is the engine's. */
function readModelConfig(dir: string): Record<string, unknown> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new ApiError('bad_request', `model folder '${dir}' does not exist`);
  }
  if (!stat.isDirectory()) throw new ApiError('bad_request', `model path '${dir}' is not a folder`);
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ApiError('bad_request', `model folder '${dir}' has no config.json`);
  }
  try {
    const cfg = JSON.parse(text) as unknown;
    if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new Error('expected a JSON object');
    return cfg as Record<string, unknown>;
  } catch (e) {
    throw new ApiError('bad_request', `${file}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * What the engine would refuse later is refused now: the adapter's config checks (a string where a
 * number belongs, an unsupported model_type) always, and with weights present the safetensors
 * headers against the file sizes (a truncated download) and the tensors the config implies. A
 * folder without weights yet is listed; inspecting it says what is missing. Reads config.json and
 * headers only; the engine modules load lazily.
 */
async function checkOpens(dir: string): Promise<void> {
  const [{ openModel }, { loadModelSpec }, { errorLine }] = await Promise.all([
    import('../../engine/model/model'),
    import('../../engine/model/registry'),
    import('../../engine/errors'),
  ]);
  const hasWeights = fs.readdirSync(dir).some((n) => n.endsWith('.safetensors'));
  try {
    if (hasWeights) openModel(dir).checkpoint.close();
    else loadModelSpec(dir);
  } catch (e) {
    throw new ApiError('bad_request', `'${dir}' cannot be used as a model: ${errorLine(e).split('\n')[0]}`);
  }
}

export function modelHandlers(
  ctx: ServiceContext,
): Pick<Handlers, 'models.list' | 'models.add' | 'models.remove'> {
  const models = ctx.store.models;
  return {
    'models.list': async () => models.list(),
    'models.add': async ({ path: given, name }) => {
      // a renderer or browser client names folders inside the allowed roots only (app/path-policy.ts)
      const dir = ctx.paths.readPath(given, 'path');
      const cfg = readModelConfig(dir);
      if (models.findByPath(dir))
        throw new ApiError('conflict', `model folder '${dir}' is already in the store`);
      await checkOpens(dir);
      const architecture = typeof cfg.model_type === 'string' ? cfg.model_type : null;
      return models.add({ name: name ?? path.basename(dir), path: dir, architecture });
    },
    'models.remove': async ({ id }) => ({ removed: models.remove(id) }),
  };
}
