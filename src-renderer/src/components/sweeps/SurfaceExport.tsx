// SVG, PNG and CSV of one drawn surface: the chart from its SVG element, the table in full precision.
import { type ExportTable, tableCsv } from '@contract/sweep-grid';
import { type RefObject, useState } from 'react';
import { downloadText } from '../../compare/table-export';
import { downloadPng, downloadSvg, exportName } from '../../sweeps/svg-export';
import { InlineError } from '../InlineError';

export function SurfaceExport({
  name,
  svg,
  table,
}: {
  name: string;
  svg: RefObject<SVGSVGElement | null>;
  table: ExportTable;
}) {
  const [error, setError] = useState<unknown>(null);
  const withSvg = (f: (el: SVGSVGElement) => void | Promise<void>) => async () => {
    setError(null);
    try {
      if (svg.current) await f(svg.current);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="surface-export toolbar" data-export={name}>
      <button type="button" className="button ghost small" onClick={withSvg((el) => downloadSvg(el, name))}>
        SVG
      </button>
      <button type="button" className="button ghost small" onClick={withSvg((el) => downloadPng(el, name))}>
        PNG
      </button>
      <button
        type="button"
        className="button ghost small"
        onClick={() => downloadText(exportName(name, 'csv'), tableCsv(table), 'text/csv;charset=utf-8')}
      >
        CSV
      </button>
      <InlineError error={error} />
    </div>
  );
}
