// The CSV report: one long table (RFC 4180 quoting) that parses back to the stored numbers, each
// value written with full precision (a JavaScript number's shortest round-trip form):
//   section,run,name,dataset,step,layer,value,unit
// section = run (one row per run: name = kind, value = seconds), config (value = JSON text of the
// setting), metric, delta (value − baseline), layer (name = stat, scalar stats only), analysis
// (name = <kind>.<field>).
import type { ReportModel } from './report-model';
import { scalarFields } from './report-text';

export const CSV_COLUMNS = ['section', 'run', 'name', 'dataset', 'step', 'layer', 'value', 'unit'] as const;

const quote = (v: string | number | boolean | null): string => {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function renderCsv(m: ReportModel): string {
  const rows: (string | number | boolean | null)[][] = [[...CSV_COLUMNS]];
  const add = (...r: (string | number | boolean | null)[]) => rows.push(r);
  for (const r of m.runs) add('run', r.id, r.kind, null, null, null, r.seconds, 's');
  for (const c of m.config)
    c.values.forEach((v, i) => {
      if (v !== null) add('config', m.runs[i]!.id, c.path, null, null, null, v, null);
    });
  for (const row of m.metrics)
    row.values.forEach((v, i) => {
      if (v === null) return;
      add('metric', m.runs[i]!.id, row.name, row.dataset, null, null, v, row.unit);
      const d = row.deltas[i];
      if (d !== null && d !== undefined)
        add('delta', m.runs[i]!.id, row.name, row.dataset, null, null, d, row.unit);
    });
  for (const t of m.layers)
    for (const r of t.rows)
      t.columns.forEach((c, j) => {
        if (r.values[j] !== null) add('layer', t.runId, c, null, t.step, r.layer, r.values[j]!, null);
      });
  for (const a of m.analyses)
    for (const rec of a.records)
      for (const [k, v] of scalarFields(rec))
        add('analysis', a.runId, `${a.kind}.${k}`, null, 0, rec.layer, v, null);
  return `${rows.map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`;
}

/** RFC 4180 parse (quoted fields, doubled quotes, CRLF or LF) into rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
