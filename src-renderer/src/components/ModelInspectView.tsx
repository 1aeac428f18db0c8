import type { ModelRecord } from '@contract';
import { formatBytes, formatCount } from '../format/numbers';
import { useApiQuery } from '../hooks/use-api-query';
import { InlineError } from './InlineError';
import { KeyValues } from './KeyValues';
import { Panel } from './Panel';

export function ModelInspectView({ model }: { model: ModelRecord }) {
  const inspect = useApiQuery('models.inspect', { id: model.id });
  const s = inspect.data?.summary;
  return (
    <Panel title={`Inspect: ${model.name}`}>
      {inspect.loading && !inspect.data ? <p className="muted">Reading config and tensor headers…</p> : null}
      {inspect.error ? (
        <div className="error-state" data-testid="inspect-error">
          <strong>This folder cannot be used as a model.</strong>
          <InlineError error={inspect.error} />
          <p className="muted small">
            Supported: Hugging Face folders of Mixtral, Qwen-MoE, OLMoE, DeepSeek-MoE and Phi-3.5-MoE with
            config.json and *.safetensors (single file or sharded with an index).
          </p>
        </div>
      ) : null}
      {s ? (
        <>
          <KeyValues
            label="Model summary"
            wide
            items={[
              ['Architecture', `${s.architecture} (${s.modelType})`],
              ['Layers', `${s.layers} (${s.moeLayers.length} MoE, ${s.denseLayers.length} dense)`],
              ['Experts / layer', s.expertsPerLayer],
              ['Top-k', s.topK],
              ['Shared experts', s.sharedExperts],
              ['Hidden', s.hiddenSize],
              ['Expert intermediate', s.moeIntermediateSize],
              ['Vocabulary', s.vocabSize],
              ['Parameters', formatCount(s.params.total)],
              ['In routed experts', formatCount(s.params.experts)],
              ['Active / token', formatCount(s.params.activePerToken)],
              ['Dtype', s.dtype],
              ['Size on disk', formatBytes(s.bytesOnDisk)],
            ]}
          />
          <h3 className="section-title">Layers</h3>
          <div className="table-scroll tall">
            <table className="table" aria-label="Model layers">
              <thead>
                <tr>
                  <th scope="col">Layer</th>
                  <th scope="col">Kind</th>
                  <th scope="col" className="num">
                    Experts
                  </th>
                  <th scope="col" className="num">
                    Parameters
                  </th>
                  <th scope="col" className="num">
                    In experts
                  </th>
                </tr>
              </thead>
              <tbody>
                {inspect.data!.layers.map((l) => (
                  <tr key={l.layer}>
                    <td className="num">{l.layer}</td>
                    <td>{l.kind === 'moe' ? 'MoE' : 'dense'}</td>
                    <td className="num">{l.experts}</td>
                    <td className="num">{formatCount(l.params)}</td>
                    <td className="num">{formatCount(l.expertParams)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </Panel>
  );
}
