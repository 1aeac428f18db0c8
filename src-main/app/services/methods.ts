// `methods.list`: every compression method with its parameters as JSON Schema, derived from the
// method's own zod schema (the one declaration the CLI, validation and the editor's forms share).
import { z } from 'zod';
import type { MethodInfo } from '../../contract/index';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

let cached: MethodInfo[] | null = null;

export function methodHandlers(_ctx: ServiceContext): Pick<Handlers, 'methods.list'> {
  return {
    'methods.list': async () => {
      if (cached) return cached;
      // lazy: the method modules pull in tfjs, which the main process should not load at start
      const { METHODS } = await import('../../engine/methods/catalog');
      cached = [...METHODS.values()].map((m) => ({
        id: m.id,
        title: m.title,
        description: m.description,
        paramsSchema: z.toJSONSchema(m.params as z.ZodType, { io: 'input', unrepresentable: 'any' }),
      }));
      return cached;
    },
  };
}
