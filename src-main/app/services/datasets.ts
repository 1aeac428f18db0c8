import type { Handlers } from '../services';
import type { ServiceContext } from './context';

export function datasetHandlers(ctx: ServiceContext): Pick<Handlers, 'datasets.list'> {
  return { 'datasets.list': async () => ctx.store.datasets.list() };
}
