// Perplexity against parameters and against weight bytes kept, zero-shot accuracy per task, and
// tokens/s, peak memory, prefill/decode tokens/s and FLOPs per token per run (recharts).
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
import { niceTicks, tickFormatter } from '../../compare/axis-ticks';
import { runLabel, runMetrics } from '../../compare/comparison';
import { taskAccuracyRows } from '../../compare/task-accuracy';
import { formatBytes, formatCount, formatNumber, formatPercent } from '../../format/numbers';

const W = 380;
const H = 240;

interface Point {
  id: number;
  label: string;
  ppl: number | null;
  params: number | null;
  bytes: number | null;
  baseline: boolean;
}

/**
 * Perplexity against one size axis: parameters, or weight bytes (slimming and quantization change
 * the bytes, not the parameter count).
 */
function PplScatter({
  data,
  x,
  axis,
  format,
  color,
}: {
  data: Point[];
  x: 'params' | 'bytes';
  axis: string;
  format: (v: number) => string;
  color: (baseline: boolean) => string;
}) {
  const scatter = data.filter((d) => d.ppl !== null && d[x] !== null);
  // explicit round ticks that enclose the points, labelled with enough digits to tell them apart
  const xt = niceTicks(scatter.map((d) => d[x]!));
  const yt = niceTicks(scatter.map((d) => d.ppl!));
  const xLabel = tickFormatter(xt, x === 'bytes' ? 'bytes' : 'count');
  const yLabel = tickFormatter(yt, 'number');
  return (
    <figure className="chart" aria-label={`Perplexity versus ${axis}`}>
      <figcaption>Perplexity vs {axis}</figcaption>
      {scatter.length ? (
        <ScatterChart width={W} height={H} margin={{ top: 20, right: 24, bottom: 20, left: 10 }}>
          <CartesianGrid stroke="var(--border)" />
          <XAxis
            type="number"
            dataKey={x}
            name={axis}
            ticks={xt}
            interval={0}
            tickFormatter={xLabel}
            stroke="var(--muted)"
            domain={[xt[0]!, xt.at(-1)!]}
          />
          <YAxis
            type="number"
            dataKey="ppl"
            name="perplexity"
            ticks={yt}
            interval={0}
            tickFormatter={yLabel}
            stroke="var(--muted)"
            domain={[yt[0]!, yt.at(-1)!]}
          />
          <ZAxis range={[80, 80]} />
          <Tooltip formatter={(v, name) => (name === axis ? format(Number(v)) : formatNumber(Number(v)))} />
          <Scatter data={scatter} isAnimationActive={false}>
            {scatter.map((d) => (
              <Cell key={d.id} fill={color(d.baseline)} />
            ))}
            <LabelList dataKey="label" position="top" fill="var(--text)" fontSize={11} />
          </Scatter>
        </ScatterChart>
      ) : (
        <p className="muted">No run has both perplexity and {axis}.</p>
      )}
    </figure>
  );
}

export function CompareCharts({ runs, baselineId }: { runs: RunDetail[]; baselineId: number | null }) {
  const data = runs.map((r) => {
    const m = runMetrics(r);
    return {
      id: r.id,
      label: runLabel(r),
      ppl: m.ppl,
      params: m.paramsAfter,
      bytes: m.weightBytesAfter,
      tps: m.tokensPerSecond,
      mem: m.peakRssBytes,
      prefill: m.prefillTokensPerSecond,
      decode: m.decodeTokensPerSecond,
      flops: m.flopsPerToken,
      baseline: r.id === baselineId,
    };
  });
  const color = (baseline: boolean) => (baseline ? 'var(--warn)' : 'var(--accent)');
  // per task, one bar per run (the baseline in the warning colour, the others in shades of the accent)
  const tasks = taskAccuracyRows(runs).map((t) => ({
    task: t.task,
    ...Object.fromEntries(Object.entries(t.acc).map(([id, v]) => [`r${id}`, v])),
  }));
  return (
    <div className="charts">
      {tasks.length ? (
        <figure className="chart" aria-label="Zero-shot accuracy per task and run">
          <figcaption>Zero-shot accuracy (lm-eval acc) per task</figcaption>
          <BarChart width={W} height={H} data={tasks} margin={{ top: 10, right: 10, bottom: 20, left: 10 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="task" stroke="var(--muted)" fontSize={10} />
            <YAxis
              stroke="var(--muted)"
              tickFormatter={(v: number) => formatPercent(v, 0)}
              domain={[0, 'auto']}
            />
            <Tooltip formatter={(v) => formatPercent(Number(v))} />
            {runs.map((r, i) => (
              <Bar
                key={r.id}
                dataKey={`r${r.id}`}
                name={runLabel(r)}
                fill={r.id === baselineId ? 'var(--warn)' : 'var(--accent)'}
                fillOpacity={r.id === baselineId ? 1 : 1 - (0.5 * i) / Math.max(1, runs.length)}
                isAnimationActive={false}
              />
            ))}
          </BarChart>
        </figure>
      ) : null}
      <PplScatter data={data} x="params" axis="parameters" format={formatCount} color={color} />
      <PplScatter data={data} x="bytes" axis="weight bytes" format={formatBytes} color={color} />
      <figure className="chart" aria-label="Tokens per second per run">
        <figcaption>Tokens/s</figcaption>
        <BarChart width={W} height={H} data={data} margin={{ top: 10, right: 10, bottom: 20, left: 10 }}>
          <CartesianGrid stroke="var(--border)" vertical={false} />
          <XAxis dataKey="label" stroke="var(--muted)" interval={0} fontSize={10} />
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
          <XAxis dataKey="label" stroke="var(--muted)" interval={0} fontSize={10} />
          <YAxis stroke="var(--muted)" tickFormatter={(v: number) => formatBytes(v)} />
          <Tooltip formatter={(v) => formatBytes(Number(v))} />
          <Bar dataKey="mem" name="peak memory" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.id} fill={color(d.baseline)} />
            ))}
          </Bar>
        </BarChart>
      </figure>
      {data.some((d) => d.prefill !== null || d.decode !== null) ? (
        <figure className="chart" aria-label="Prefill and decode tokens per second per run">
          <figcaption>Prefill / decode tok/s (KV cache, greedy)</figcaption>
          <BarChart width={W} height={H} data={data} margin={{ top: 10, right: 10, bottom: 20, left: 10 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="label" stroke="var(--muted)" interval={0} fontSize={10} />
            <YAxis yAxisId="p" stroke="var(--accent)" tickFormatter={(v: number) => formatNumber(v)} />
            <YAxis
              yAxisId="d"
              orientation="right"
              stroke="var(--warn)"
              tickFormatter={(v: number) => formatNumber(v)}
            />
            <Tooltip formatter={(v) => formatNumber(Number(v))} />
            <Bar
              yAxisId="p"
              dataKey="prefill"
              name="prefill tok/s"
              fill="var(--accent)"
              isAnimationActive={false}
            />
            <Bar
              yAxisId="d"
              dataKey="decode"
              name="decode tok/s"
              fill="var(--warn)"
              isAnimationActive={false}
            />
          </BarChart>
        </figure>
      ) : null}
      {data.some((d) => d.flops !== null) ? (
        <figure className="chart" aria-label="FLOPs per token per run">
          <figcaption>FLOPs per token (measured routing)</figcaption>
          <BarChart width={W} height={H} data={data} margin={{ top: 10, right: 10, bottom: 20, left: 20 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="label" stroke="var(--muted)" interval={0} fontSize={10} />
            <YAxis stroke="var(--muted)" tickFormatter={(v: number) => formatCount(v)} />
            <Tooltip formatter={(v) => formatCount(Number(v))} />
            <Bar dataKey="flops" name="FLOPs/token" isAnimationActive={false}>
              {data.map((d) => (
                <Cell key={d.id} fill={color(d.baseline)} />
              ))}
            </Bar>
          </BarChart>
        </figure>
      ) : null}
    </div>
  );
}
