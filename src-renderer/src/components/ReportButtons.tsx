// Download a report of runs (app/report/ through `runs.report`): HTML (self-contained, charts
// inline), Markdown or CSV; for one run or a comparison with deltas against the baseline.
import { useState } from 'react';
import { useApi } from '../api/api-context';
import { downloadText } from '../compare/table-export';
import { InlineError } from './InlineError';

const FORMATS = [
  { format: 'html', label: 'Report HTML' },
  { format: 'md', label: 'Report Markdown' },
  { format: 'csv', label: 'Report CSV' },
] as const;

export function ReportButtons({ ids, baseline }: { ids: readonly number[]; baseline?: number | null }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const download = async (format: (typeof FORMATS)[number]['format']) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.call('runs.report', {
        ids: [...ids],
        format,
        ...(baseline !== null && baseline !== undefined ? { baseline } : {}),
      });
      downloadText(r.filename, r.content, r.mime);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {FORMATS.map((f) => (
        <button
          key={f.format}
          type="button"
          className="button ghost"
          disabled={busy || ids.length === 0}
          onClick={() => void download(f.format)}
        >
          {f.label}
        </button>
      ))}
      <InlineError error={error} />
    </>
  );
}
