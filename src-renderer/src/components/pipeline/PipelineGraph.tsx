// The pipeline as a node graph: model → calibration → steps in order → evaluation → export.
// Each node is a button (click, or Tab + Enter) that opens its form; nodes with problems are marked.
// Selection is ours, not xyflow's: the graph is a read-only view of the config.
import { type Edge, Handle, type Node, type NodeProps, Position, ReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useMemo } from 'react';
import { useDocumentTheme } from '../../hooks/use-document-theme';
import type { Stage, StageId } from '../../pipeline/pipeline-nodes';

type StageData = { stage: Stage; issues: number; selected: boolean; onSelect(id: StageId): void };
type StageNode = Node<StageData, 'stage'>;

const StageNodeView = memo(function StageNodeView({ data }: NodeProps<StageNode>) {
  const { stage, issues, selected, onSelect } = data;
  return (
    <div
      className={`stage-node stage-${stage.kind}${selected ? ' is-selected' : ''}${issues ? ' has-issue' : ''}`}
      data-stage={stage.id}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {/* a real button: Tab reaches every stage, Enter/Space opens its form */}
      <button
        type="button"
        className="stage-button nodrag"
        aria-pressed={selected}
        onClick={() => onSelect(stage.id)}
      >
        <span className="stage-title">{stage.title}</span>
        <span className="stage-summary">{stage.summary}</span>
        {issues ? (
          <span className="stage-issues">
            ⚠ {issues} problem{issues > 1 ? 's' : ''}
          </span>
        ) : null}
      </button>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
});

const nodeTypes = { stage: StageNodeView };
const X = 210;

export function PipelineGraph({
  stages,
  selected,
  issueCounts,
  onSelect,
}: {
  stages: Stage[];
  selected: StageId;
  issueCounts: ReadonlyMap<StageId, number>;
  onSelect(id: StageId): void;
}) {
  const nodes = useMemo<StageNode[]>(
    () =>
      stages.map((s, i) => ({
        id: s.id,
        type: 'stage',
        position: { x: i * X, y: 0 },
        data: { stage: s, issues: issueCounts.get(s.id) ?? 0, selected: s.id === selected, onSelect },
        draggable: false,
        connectable: false,
        selectable: false,
        focusable: false,
      })),
    [stages, selected, issueCounts, onSelect],
  );
  const theme = useDocumentTheme();
  const edges = useMemo<Edge[]>(
    () =>
      stages.slice(1).map((s, i) => ({
        id: `${stages[i]!.id}->${s.id}`,
        source: stages[i]!.id,
        target: s.id,
        animated: false,
      })),
    [stages],
  );
  return (
    <div className="pipeline-graph" data-testid="pipeline-graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        colorMode={theme}
        fitView
        fitViewOptions={{ padding: 0.15 }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        onNodeClick={(_, n) => onSelect(n.id as StageId)}
        zoomOnScroll={false}
        panOnScroll
        minZoom={0.4}
        maxZoom={1.5}
        aria-label="Pipeline graph"
      />
    </div>
  );
}
