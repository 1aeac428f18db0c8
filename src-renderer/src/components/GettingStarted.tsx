// The landing page's lead: the main job in four steps (pick a model → build or open a pipeline →
// run → compare), and the example pipelines of resources/pipelines/ one click from the editor.
import { useApiQuery } from '../hooks/use-api-query';
import { Panel } from './Panel';

export function GettingStarted() {
  const examples = useApiQuery('pipelines.examples', {});
  return (
    <Panel title="Start here">
      <ol className="plain-list" aria-label="Main steps">
        <li>
          <a href="#/models">Pick a model</a> (built-in <span className="mono">tiny-mixtral</span> works
          offline) and press <strong>Evaluate</strong> for its baseline.
        </li>
        <li>
          <a href="#/pipelines">Build a pipeline</a> or open an example below.
        </li>
        <li>Run it: progress shows live in the run page and the runs list.</li>
        <li>
          <a href="#/compare">Compare</a> the run with its baseline under the same evaluation protocol.
        </li>
      </ol>
      {examples.data?.length ? (
        <>
          <h3 className="section-title">Example pipelines</h3>
          <ul className="plain-list" aria-label="Example pipelines">
            {examples.data.map((x) => (
              <li key={x.file}>
                <a href={`#/pipelines?example=${encodeURIComponent(x.file)}`}>{x.name}</a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </Panel>
  );
}
