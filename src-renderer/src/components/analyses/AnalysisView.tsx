// The stored result of one analysis run (contract/analyses.ts), drawn per kind: the per-layer
// sensitivity table and Δppl bars; the layers × experts routing-frequency heatmap with coverage;
// per-layer expert × expert heatmaps of weight cosine and output CKA; energy vs rank curves with the
// experts' min–max band; router entropies per layer against log N.
import {
  type AnalysisKind,
  analysisRecords,
  type EnergyRecord,
  type EntropyRecord,
  type RoutingRecord,
  type SensitivityRecord,
  type SimilarityRecord,
} from '@contract/analyses';
import { useId, useState } from 'react';
import {
  Area,
  Bar,
  BarChart,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import {
  energyPoints,
  energyRankTable,
  entropyPoints,
  matrixGrid,
  offDiagonalMean,
  routingGrid,
  sensitivityRows,
} from '../../analyses/analysis-data';
import { formatNumber, formatPercent } from '../../format/numbers';
import { GridHeatmap } from './GridHeatmap';

const W = 460;
const H = 240;
const UNIT = { min: 0, max: 1 };

export function AnalysisView({
  kind,
  layers,
}: {
  kind: AnalysisKind;
  layers: readonly { layer: number; stats: unknown }[];
}) {
  switch (kind) {
    case 'sensitivity':
      return <SensitivityView records={analysisRecords('sensitivity', layers)} />;
    case 'routing':
      return <RoutingView records={analysisRecords('routing', layers)} />;
    case 'similarity':
      return <SimilarityView records={analysisRecords('similarity', layers)} />;
    case 'energy':
      return <EnergyView records={analysisRecords('energy', layers)} />;
    case 'entropy':
      return <EntropyView records={analysisRecords('entropy', layers)} />;
  }
}

function Empty() {
  return <p className="muted">No layer results recorded.</p>;
}

function SensitivityView({ records }: { records: SensitivityRecord[] }) {
  if (!records.length) return <Empty />;
  const rows = sensitivityRows(records);
  const first = records[0]!;
  return (
    <div className="stack" data-testid="analysis-sensitivity">
      <p className="muted small">
        {first.method} on one layer at a time, {formatPercent(first.ratio)} of its routed-expert parameters;
        baseline perplexity {formatNumber(first.baselinePpl)} on the same windows.
      </p>
      <figure className="chart" aria-label="Perplexity change per layer">
        <BarChart width={W} height={H} data={rows.map((r) => ({ layer: `L${r.layer}`, delta: r.deltaPpl }))}>
          <CartesianGrid stroke="var(--border)" />
          <XAxis dataKey="layer" stroke="var(--muted)" />
          <YAxis stroke="var(--muted)" tickFormatter={(v: number) => formatNumber(v)} />
          <Tooltip formatter={(v) => formatNumber(Number(v))} />
          <ReferenceLine y={0} stroke="var(--muted)" />
          <Bar dataKey="delta" name="Δ perplexity" fill="var(--accent)" isAnimationActive={false} />
        </BarChart>
      </figure>
      <table className="table compact" aria-label="Per-layer sensitivity">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Knob</th>
            <th scope="col" className="num">
              Achieved
            </th>
            <th scope="col" className="num">
              Perplexity
            </th>
            <th scope="col" className="num">
              Δ ppl
            </th>
            <th scope="col" className="num">
              Δ %
            </th>
            <th scope="col" className="num">
              Rank
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.layer} data-layer={r.layer}>
              <th scope="row">L{r.layer}</th>
              <td className="mono">{r.noop ? 'unchanged' : r.knobs}</td>
              <td className="num">{formatPercent(r.achievedRatio)}</td>
              <td className="num">{formatNumber(r.ppl)}</td>
              <td className="num">{formatNumber(r.deltaPpl)}</td>
              <td className="num">{formatPercent(r.relativeDelta)}</td>
              <td className="num">{r.rank}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RoutingView({ records }: { records: RoutingRecord[] }) {
  if (!records.length) return <Empty />;
  return (
    <div className="stack" data-testid="analysis-routing">
      <GridHeatmap
        grid={routingGrid(records)}
        label="Routing frequency per layer and expert (top-k selections / tokens)"
        format={(v) => formatPercent(v)}
        testId="routing-heatmap"
      />
      <table className="table compact" aria-label="Calibration coverage">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col" className="num">
              Tokens
            </th>
            <th scope="col" className="num">
              Covered experts
            </th>
            <th scope="col" className="num">
              Fewest tokens
            </th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr key={r.layer}>
              <th scope="row">L{r.layer}</th>
              <td className="num">{r.tokens}</td>
              <td className="num">
                {r.covered}/{r.counts.length} (≥ {r.minTokens} tokens)
              </td>
              <td className="num">{Math.min(...r.counts)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function LayerPicker({
  layers,
  value,
  onChange,
}: {
  layers: number[];
  value: number;
  onChange: (l: number) => void;
}) {
  const id = useId();
  return (
    <div className="field-row narrow">
      <label htmlFor={id}>Layer</label>
      <select id={id} className="input" value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {layers.map((l) => (
          <option key={l} value={l}>
            L{l}
          </option>
        ))}
      </select>
    </div>
  );
}

function SimilarityView({ records }: { records: SimilarityRecord[] }) {
  const [layer, setLayer] = useState<number | null>(null);
  if (!records.length) return <Empty />;
  const r = records.find((x) => x.layer === layer) ?? records[0]!;
  return (
    <div className="stack" data-testid="analysis-similarity">
      <LayerPicker layers={records.map((x) => x.layer)} value={r.layer} onChange={setLayer} />
      <div className="charts">
        <div>
          <h4 className="section-title">
            Weight cosine (mean off-diagonal {formatNumber(offDiagonalMean(r.weightCosine))})
          </h4>
          <GridHeatmap
            grid={matrixGrid(r.weightCosine)}
            label={`Weight cosine of layer ${r.layer}'s experts`}
            format={(v) => v.toFixed(3)}
            testId="cosine-heatmap"
          />
        </div>
        <div>
          <h4 className="section-title">
            Output CKA, {r.ckaTokens} tokens (mean off-diagonal {formatNumber(offDiagonalMean(r.outputCka))})
          </h4>
          <GridHeatmap
            grid={matrixGrid(r.outputCka)}
            label={`Output CKA of layer ${r.layer}'s experts`}
            format={(v) => v.toFixed(3)}
            domain={UNIT}
            testId="cka-heatmap"
          />
        </div>
      </div>
    </div>
  );
}

function EnergyView({ records }: { records: EnergyRecord[] }) {
  const [layer, setLayer] = useState<number | null>(null);
  if (!records.length) return <Empty />;
  const r = records.find((x) => x.layer === layer) ?? records[0]!;
  return (
    <div className="stack" data-testid="analysis-energy">
      <LayerPicker layers={records.map((x) => x.layer)} value={r.layer} onChange={setLayer} />
      <p className="muted small">
        Share of {r.whitened ? '‖W·S‖² (SVD-LLM whitening by the routed tokens)' : '‖W‖²'} a rank-r truncation
        keeps; line = mean over the layer's experts, band = min–max.
        {r.fallbackExperts ? ` ${r.fallbackExperts} experts had no calibration tokens (plain SVD).` : ''}
      </p>
      <div className="charts">
        {(['gate', 'up', 'down'] as const).map((p) => (
          <figure key={p} className="chart" aria-label={`Energy vs rank, ${p}`}>
            <figcaption>{p}</figcaption>
            <ComposedChart width={300} height={200} data={energyPoints(r, p)}>
              <CartesianGrid stroke="var(--border)" />
              <XAxis dataKey="rank" type="number" domain={[1, r.fullRank]} stroke="var(--muted)" />
              <YAxis domain={[0, 1]} stroke="var(--muted)" tickFormatter={(v: number) => formatPercent(v)} />
              <Tooltip
                formatter={(v) =>
                  Array.isArray(v)
                    ? v.map((x) => formatPercent(Number(x))).join(' – ')
                    : formatPercent(Number(v))
                }
              />
              <Area
                dataKey="band"
                name="min–max"
                stroke="none"
                fill="var(--accent)"
                fillOpacity={0.2}
                isAnimationActive={false}
              />
              <Line dataKey="mean" name="mean" stroke="var(--accent)" dot={false} isAnimationActive={false} />
            </ComposedChart>
          </figure>
        ))}
      </div>
      <table className="table compact" aria-label="Rank reaching an energy share">
        <thead>
          <tr>
            <th scope="col">Energy</th>
            <th scope="col" className="num">
              gate
            </th>
            <th scope="col" className="num">
              up
            </th>
            <th scope="col" className="num">
              down
            </th>
          </tr>
        </thead>
        <tbody>
          {energyRankTable(r).map((t) => (
            <tr key={t.threshold}>
              <th scope="row">{formatPercent(t.threshold)}</th>
              <td className="num">{formatNumber(t.gate)}</td>
              <td className="num">{formatNumber(t.up)}</td>
              <td className="num">{formatNumber(t.down)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        Mean over experts of the smallest rank reaching the share, of {r.fullRank}.
      </p>
    </div>
  );
}

function EntropyView({ records }: { records: EntropyRecord[] }) {
  if (!records.length) return <Empty />;
  const data = entropyPoints(records);
  return (
    <div className="stack" data-testid="analysis-entropy">
      <figure className="chart" aria-label="Router entropy per layer">
        <LineChart width={W} height={H} data={data}>
          <CartesianGrid stroke="var(--border)" />
          <XAxis dataKey="layer" stroke="var(--muted)" />
          <YAxis stroke="var(--muted)" tickFormatter={(v: number) => formatNumber(v)} />
          <Tooltip formatter={(v) => `${formatNumber(Number(v))} nats`} />
          <Legend />
          <Line dataKey="token" name="mean token entropy" stroke="var(--accent)" isAnimationActive={false} />
          <Line dataKey="load" name="average-load entropy" stroke="var(--warn)" isAnimationActive={false} />
          <Line
            dataKey="selection"
            name="selection entropy"
            stroke="var(--muted)"
            isAnimationActive={false}
          />
          <Line
            dataKey="max"
            name="log N (uniform)"
            stroke="var(--border)"
            strokeDasharray="4 4"
            dot={false}
            isAnimationActive={false}
          />
        </LineChart>
      </figure>
      <table className="table compact" aria-label="Router entropy">
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col" className="num">
              Token
            </th>
            <th scope="col" className="num">
              Average load
            </th>
            <th scope="col" className="num">
              Selection
            </th>
            <th scope="col" className="num">
              log N
            </th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr key={r.layer}>
              <th scope="row">L{r.layer}</th>
              <td className="num">{r.meanTokenEntropy.toFixed(4)}</td>
              <td className="num">{r.averageLoadEntropy.toFixed(4)}</td>
              <td className="num">{r.selectionEntropy.toFixed(4)}</td>
              <td className="num">{r.maxEntropy.toFixed(4)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
