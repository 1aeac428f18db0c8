// `runs.report`: the stored runs rendered as one report (app/report/).
import { ApiError, notFound } from '../api-error';
import { renderReport } from '../report/index';
import type { Handlers } from '../services';
import type { ServiceContext } from './context';

export function reportHandlers(ctx: ServiceContext): Pick<Handlers, 'runs.report'> {
  return {
    'runs.report': async ({ ids, format, baseline }) => {
      if (baseline !== undefined && !ids.includes(baseline))
        throw new ApiError(
          'bad_request',
          `baseline run ${baseline} is not one of the runs ${ids.join(', ')}`,
        );
      const runs = ids.map((id) => {
        const d = ctx.store.runs.detail(id);
        if (!d) throw notFound('run', id);
        return d;
      });
      return renderReport(runs, format, baseline !== undefined ? { baselineId: baseline } : {});
    },
  };
}
