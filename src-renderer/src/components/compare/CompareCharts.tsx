// Perplexity against parameters kept, and tokens/s and peak memory per run (recharts).
import type { RunDetail } from '@contract';
import {
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  LabelList,
  Scatter,
  ScatterChart,
  Tooltip,
  XAxis,
  YAxis,
  ZAxis,
} from 'recharts';
import { runLabel, runMetrics } from '../../compare/comparison';
import { formatBytes, formatCount, formatNumber } from '../../format/numbers';

const W = 380;
const H = 240;

export function CompareCharts({ runs, baselineId }: { runs: RunDetail[]; baselineId: number | null }) {
  const data = runs.map((r) => {
    const m = runMetrics(r);
    return {
      id: r.id,
      label: runLabel(r),
      ppl: m.ppl,
      params: m.paramsAfter,
      tps: m.tokensPerSecond,
      mem: m.peakRssBytes,
      baseline: r.id === baselineId,
    };
  });
  const color = (baseline: boolean) => (baseline ? 'var(--warn)' : 'var(--accent)');
  const scatter = data.filter((d) => d.ppl !== null && d.params !== null);
  return (
    <div className="charts">
      <figure className="chart" aria-label="Perplexity versus parameters">
        <figcaption>Perplexity vs parameters</figcaption>
        {scatter.length ? (
          <ScatterChart width={W} height={H} margin={{ top: 10, right: 20, bottom: 20, left: 10 }}>
            <CartesianGrid stroke="var(--border)" />
            <XAxis
              type="number"
              dataKey="params"
              name="parameters"
              tickFormatter={(v: number) => formatCount(v)}
              stroke="var(--muted)"
              domain={['auto', 'auto']}
            />
            <YAxis
              type="number"
              dataKey="ppl"
              name="perplexity"
              tickFormatter={(v: number) => formatNumber(v)}
              stroke="var(--muted)"
              domain={['auto', 'auto']}
            />
            <ZAxis range={[80, 80]} />
            <Tooltip
              formatter={(v, name) =>
                name === 'parameters' ? formatCount(Number(v)) : formatNumber(Number(v))
              }
            />
            <Scatter data={scatter} isAnimationActive={false}>
              {scatter.map((d) => (
                <Cell key={d.id} fill={color(d.baseline)} />
              ))}
              <LabelList dataKey="label" position="top" fill="var(--text)" fontSize={11} />
            </Scatter>
          </ScatterChart>
        ) : (
          <p className="muted">No run has both perplexity and a parameter count.</p>
        )}
      </figure>
      <figure className="chart" aria-label="Tokens per second per run">
        <figcaption>Tokens/s</figcaption>
        <BarChart width={W} height={H} data={data} margin={{ top: 10, right: 10, bottom: 20, left: 10 }}>
          <CartesianGrid stroke="var(--border)" vertical={false} />
          <XAxis dataKey="label" stroke="var(--muted)" />
          <YAxis stroke="var(--muted)" tickFormatter={(v: number) => formatNumber(v)} />
          <Tooltip formatter={(v) => formatNumber(Number(v))} />
          <Bar dataKey="tps" name="tokens/s" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.id} fill={color(d.baseline)} />
            ))}
          </Bar>
        </BarChart>
      </figure>
      <figure className="chart" aria-label="Peak memory per run">
        <figcaption>Peak memory</figcaption>
        <BarChart width={W} height={H} data={data} margin={{ top: 10, right: 10, bottom: 20, left: 20 }}>
          <CartesianGrid stroke="var(--border)" vertical={false} />
          <XAxis dataKey="label" stroke="var(--muted)" />
          <YAxis stroke="var(--muted)" tickFormatter={(v: number) => formatBytes(v)} />
          <Tooltip formatter={(v) => formatBytes(Number(v))} />
          <Bar dataKey="mem" name="peak memory" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.id} fill={color(d.baseline)} />
            ))}
          </Bar>
        </BarChart>
      </figure>
    </div>
  );
}
