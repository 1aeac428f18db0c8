// `methods.list`: every compression method with its family, its knob and its parameters as JSON
// Schema, derived from the method's own zod declaration (the one the CLI, validation, the planner
// and the editor's forms share). Read from the tfjs-free catalog; the list is fixed per process.
import { z } from 'zod';
import type { MethodInfo } from '../../contract/index';
import { METHODS } from '../../engine/methods/catalog';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

let cached: MethodInfo[] | null = null;

export function methodInfos(): MethodInfo[] {
  cached ??= [...METHODS.values()].map((m) => ({
    id: m.id,
    family: m.family,
    title: m.title,
    description: m.description,
    knob: m.knob.name,
    paramsSchema: z.toJSONSchema(m.params as z.ZodType, { io: 'input', unrepresentable: 'any' }),
  }));
  return cached;
}

export function methodHandlers(_ctx: ServiceContext): Pick<Handlers, 'methods.list'> {
  return { 'methods.list': async () => methodInfos() };
}
