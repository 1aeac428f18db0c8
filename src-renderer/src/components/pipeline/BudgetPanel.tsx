// The pipeline's budget: the whole-model target ratio, one contribution slider per family of the
// budget-driven steps (moving one rescales the others so the shares always sum to 1), and the
// live plan: per step its knob values, parameters and ratio after, the totals, and — inline — why
// a budget cannot be met or a step cannot run where it is.
import type { ConfigIssue, PipelinePlan } from '@contract';
import { useId } from 'react';
import { formatCount, formatPercent } from '../../format/numbers';
import { effectiveShares, familyName, type Shares, setShare } from '../../pipeline/budget';
import { amountText, issueText, knobText, planTotals, problemText } from '../../pipeline/plan-view';

export interface BudgetPanelProps {
  config: Record<string, unknown>;
  plan: PipelinePlan | null;
  /** families of the budget-driven steps, from the last plan answer */
  families: string[];
  issues: ConfigIssue[];
  checking: boolean;
  methodTitles: ReadonlyMap<string, string>;
  set(path: (string | number)[], value: unknown): void;
  onSelectStep(index: number): void;
}

function RatioInput({
  value,
  onChange,
  id,
  invalid,
  describedBy,
}: {
  value: unknown;
  onChange(v: unknown): void;
  id: string;
  invalid: boolean;
  describedBy: string;
}) {
  return (
    <input
      id={id}
      className="input narrow-input"
      inputMode="decimal"
      value={typeof value === 'number' ? String(value) : typeof value === 'string' ? value : ''}
      placeholder="0.2"
      aria-invalid={invalid || undefined}
      aria-describedby={describedBy}
      onChange={(e) => {
        const t = e.target.value.trim();
        onChange(t === '' ? undefined : Number.isFinite(Number(t)) ? Number(t) : t);
      }}
    />
  );
}

export function BudgetPanel({
  config,
  plan,
  families,
  issues,
  checking,
  methodTitles,
  set,
  onSelectStep,
}: BudgetPanelProps) {
  const ids = useId().replace(/:/g, '');
  const target = (config.target ?? {}) as Record<string, unknown>;
  const shares: Shares = effectiveShares(config, families);
  const written = target.contributions !== undefined;
  const ratioIssue = issues.find((i) => i.path === 'target.ratio' || i.path === 'target');
  const contributionIssues = issues.filter((i) => i.path.startsWith('target.contributions'));
  const problem = plan?.problem ? problemText(plan.problem) : null;
  const ratioIssueText = ratioIssue ? issueText(ratioIssue) : null;
  const setRatio = (v: unknown) => {
    const next: Record<string, unknown> = { ...target };
    if (v === undefined) delete next.ratio;
    else next.ratio = v;
    set(['target'], Object.keys(next).length ? next : undefined);
  };
  const totals = plan ? planTotals(plan) : null;

  return (
    <div className="budget" data-testid="budget-panel">
      <div className="form-row">
        <label htmlFor={`${ids}-ratio`}>Target ratio</label>
        <div className={`form-control${ratioIssue ? ' has-issue' : ''}`}>
          <RatioInput
            id={`${ids}-ratio`}
            value={target.ratio}
            onChange={setRatio}
            invalid={Boolean(ratioIssue)}
            describedBy={`${ids}-ratio-help`}
          />
          <div id={`${ids}-ratio-help`} className="field-help-wrap">
            <span className="field-help">
              whole-model compression ratio 1 − params_after/params_before (0 ≤ x &lt; 1), split between the
              steps that set no amount of their own
            </span>
            {ratioIssueText && ratioIssueText !== problem ? (
              <span className="inline-error" role="alert">
                {ratioIssueText}
              </span>
            ) : null}
          </div>
        </div>
      </div>
      <fieldset className="form-group contributions" aria-describedby={`${ids}-contrib-help`}>
        <legend>Contributions</legend>
        <p id={`${ids}-contrib-help`} className="field-help">
          {families.length === 0
            ? 'No step takes its amount from the budget: every step sets its own (rank, count or ratio).'
            : families.length === 1
              ? `One budget-driven family: ${families[0]} (${familyName(families[0]!)}) takes the whole budget.`
              : `Share of the target per family of the budget-driven steps; the shares always sum to 1${written ? '' : ' (now: equal shares)'}.`}
        </p>
        {families.map((f) => {
          const v = shares[f] ?? 0;
          const issue = contributionIssues.find((i) => i.path === `target.contributions.${f}`);
          return (
            <div key={f} className={`slider-row${issue ? ' has-issue' : ''}`} data-family={f}>
              <label htmlFor={`${ids}-c-${f}`}>
                <span className={`family-badge family-${f}`}>{f}</span> {familyName(f)}
              </label>
              <input
                id={`${ids}-c-${f}`}
                type="range"
                min={0}
                max={1}
                step={0.01}
                value={v}
                disabled={families.length < 2}
                aria-valuetext={formatPercent(v, 0)}
                onChange={(e) =>
                  set(['target', 'contributions'], setShare(shares, families, f, Number(e.target.value)))
                }
              />
              <output className="mono" htmlFor={`${ids}-c-${f}`} data-testid={`share-${f}`}>
                {formatPercent(v, 0)}
              </output>
              {issue ? (
                <span className="inline-error" role="alert">
                  {issueText(issue)}
                </span>
              ) : null}
            </div>
          );
        })}
        {contributionIssues
          .filter((i) => !families.some((f) => i.path === `target.contributions.${f}`))
          .map((i) => (
            <span key={i.path + i.message} className="inline-error" role="alert">
              {issueText(i)}
            </span>
          ))}
        {written ? (
          <div className="button-row">
            <button
              type="button"
              className="button ghost"
              onClick={() => set(['target', 'contributions'], undefined)}
            >
              Equal shares
            </button>
          </div>
        ) : null}
      </fieldset>
      {problem ? (
        <p className="inline-error budget-problem" role="alert" data-testid="plan-problem">
          {problem}
        </p>
      ) : null}
      <h3 className="section-title">
        Plan{' '}
        <span className="muted small" aria-live="polite">
          {checking ? 'updating…' : plan ? `${plan.architecture}, from the checkpoint’s shapes` : ''}
        </span>
      </h3>
      {plan ? (
        <div className="table-scroll">
          <table className="table compact" aria-label="Pipeline plan" data-testid="pipeline-plan">
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Amount</th>
                <th scope="col">Knobs</th>
                <th scope="col" className="num">
                  Params after
                </th>
                <th scope="col" className="num">
                  Ratio after
                </th>
              </tr>
            </thead>
            <tbody>
              {plan.steps.map((s, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: plan steps are positional
                <tr key={i} data-step={i} className={s.noop ? 'muted' : undefined}>
                  <td>
                    <button type="button" className="link-button" onClick={() => onSelectStep(i)}>
                      {i + 1}. {methodTitles.get(s.method) ?? s.method}
                    </button>{' '}
                    <span className={`family-badge family-${s.family}`}>{s.family}</span>
                  </td>
                  <td>{amountText(s.amount)}</td>
                  <td className="mono">{s.noop ? 'no-op' : knobText(s.knobs)}</td>
                  <td className="num">{formatCount(s.paramsAfter)}</td>
                  <td className="num">{formatPercent(s.ratioAfter)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr data-testid="plan-totals">
                <th scope="row">Total</th>
                <td colSpan={2}>
                  {totals!.target === null
                    ? 'no whole-model target'
                    : `target ${formatPercent(totals!.target)} (± ${formatPercent(plan.tolerance, 2)})`}
                </td>
                <td className="num">
                  {formatCount(totals!.paramsBefore)} → {formatCount(totals!.paramsAfter)}
                </td>
                <td className={`num${totals!.onTarget === false ? ' warn-text' : ''}`}>
                  {formatPercent(totals!.achieved)}
                </td>
              </tr>
            </tfoot>
          </table>
        </div>
      ) : (
        <p className="muted" data-testid="plan-none">
          {checking ? 'Planning…' : 'No plan: fix the problems listed with the pipeline first.'}
        </p>
      )}
    </div>
  );
}
