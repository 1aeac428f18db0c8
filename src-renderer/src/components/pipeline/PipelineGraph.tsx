// The pipeline as a node graph: model → calibration → steps in order → evaluation → export, in
// rows of a few nodes. Each node is a button (click, or Tab + Enter) that opens its form; nodes with
// problems are marked; step nodes carry their family, the live plan's line and buttons to move
// them earlier / later or remove them. Selection is ours, not xyflow's: the graph is a view of
// the config, and every change goes through the config (and so the JSON text).
import { type Edge, Handle, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useMemo } from 'react';
import { useDocumentTheme } from '../../hooks/use-document-theme';
import { familyName } from '../../pipeline/budget';
import type { Stage, StageId } from '../../pipeline/pipeline-nodes';

export interface StepActions {
  move(from: number, to: number): void;
  remove(index: number): void;
}

type StageData = {
  stage: Stage;
  issues: number;
  selected: boolean;
  stepCount: number;
  onSelect(id: StageId): void;
  actions: StepActions;
};
type StageNode = Node<StageData, 'stage'>;

const StageNodeView = memo(function StageNodeView({ data }: NodeProps<StageNode>) {
  const { stage, issues, selected, onSelect, actions, stepCount } = data;
  const i = stage.stepIndex;
  const stop = (e: React.SyntheticEvent) => e.stopPropagation();
  return (
    <div
      className={`stage-node stage-${stage.kind}${selected ? ' is-selected' : ''}${issues ? ' has-issue' : ''}`}
      data-stage={stage.id}
    >
      <Handle id="l" type="target" position={Position.Left} isConnectable={false} />
      <Handle id="t" type="target" position={Position.Top} isConnectable={false} />
      {/* a real button: Tab reaches every stage, Enter/Space opens its form */}
      <button
        type="button"
        className="stage-button nodrag"
        aria-pressed={selected}
        onClick={() => onSelect(stage.id)}
      >
        <span className="stage-title">
          {stage.family ? (
            <span className={`family-badge family-${stage.family}`} title={familyName(stage.family)}>
              {stage.family}
            </span>
          ) : null}
          {stage.title}
        </span>
        <span className="stage-summary">{stage.summary}</span>
        {stage.planned ? (
          <span className="stage-planned" data-testid="stage-planned">
            {stage.planned}
          </span>
        ) : null}
        {issues ? (
          <span className="stage-issues">
            ⚠ {issues} problem{issues > 1 ? 's' : ''}
          </span>
        ) : null}
      </button>
      {i !== undefined ? (
        <div className="stage-controls nodrag">
          <button
            type="button"
            className="icon-button small"
            aria-label={`Move step ${i + 1} earlier`}
            title="Move earlier"
            disabled={i === 0}
            onClick={(e) => {
              stop(e);
              actions.move(i, i - 1);
            }}
          >
            ◀
          </button>
          <button
            type="button"
            className="icon-button small"
            aria-label={`Move step ${i + 1} later`}
            title="Move later"
            disabled={i >= stepCount - 1}
            onClick={(e) => {
              stop(e);
              actions.move(i, i + 1);
            }}
          >
            ▶
          </button>
          <button
            type="button"
            className="icon-button small danger"
            aria-label={`Remove step ${i + 1}`}
            title="Remove step"
            disabled={stepCount <= 1}
            onClick={(e) => {
              stop(e);
              actions.remove(i);
            }}
          >
            ×
          </button>
        </div>
      ) : null}
      <Handle id="r" type="source" position={Position.Right} isConnectable={false} />
      <Handle id="b" type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { stage: StageNodeView };
const X = 205;
const Y = 130;
/** at most this many nodes per row: a long pipeline wraps instead of shrinking to unreadable */
export const MAX_PER_ROW = 5;

/** Rows and nodes per row for n stages, rows as even as they can be. */
export function graphLayout(n: number): { rows: number; perRow: number } {
  const rows = Math.max(1, Math.ceil(n / MAX_PER_ROW));
  return { rows, perRow: Math.max(1, Math.ceil(n / rows)) };
}

export function PipelineGraph({
  stages,
  selected,
  issueCounts,
  onSelect,
  actions,
}: {
  stages: Stage[];
  selected: StageId;
  issueCounts: ReadonlyMap<StageId, number>;
  onSelect(id: StageId): void;
  actions: StepActions;
}) {
  const stepCount = stages.filter((s) => s.kind === 'step').length;
  const { rows, perRow } = graphLayout(stages.length);
  const nodes = useMemo<StageNode[]>(
    () =>
      stages.map((s, i) => ({
        id: s.id,
        type: 'stage',
        position: { x: (i % perRow) * X, y: Math.floor(i / perRow) * Y },
        data: {
          stage: s,
          issues: issueCounts.get(s.id) ?? 0,
          selected: s.id === selected,
          onSelect,
          actions,
          stepCount,
        },
        draggable: false,
        connectable: false,
        selectable: false,
        focusable: false,
      })),
    [stages, selected, issueCounts, onSelect, actions, stepCount, perRow],
  );
  const theme = useDocumentTheme();
  const edges = useMemo<Edge[]>(
    () =>
      stages.slice(1).map((s, k) => {
        const wraps = (k + 1) % perRow === 0;
        return {
          id: `${stages[k]!.id}->${s.id}`,
          source: stages[k]!.id,
          target: s.id,
          sourceHandle: wraps ? 'b' : 'r',
          targetHandle: wraps ? 't' : 'l',
          type: wraps ? 'smoothstep' : 'default',
          animated: false,
        };
      }),
    [stages, perRow],
  );
  return (
    <div
      className="pipeline-graph"
      data-testid="pipeline-graph"
      data-steps={stepCount}
      style={{ height: 40 + rows * Y }}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        colorMode={theme}
        fitView
        fitViewOptions={{ padding: 0.08 }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        onNodeClick={(_, n) => onSelect(n.id as StageId)}
        zoomOnScroll={false}
        panOnScroll
        minZoom={0.4}
        maxZoom={1.2}
        aria-label="Pipeline graph"
      />
    </div>
  );
}
