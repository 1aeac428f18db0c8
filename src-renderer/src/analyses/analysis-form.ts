// The analysis start form's fields → the params of an `analysis.<kind>` job (engine/jobs/
// analysis.params.ts validates them on the main side; empty fields take the schema's defaults).
import type { AnalysisKind } from '@contract/analyses';

export interface AnalysisForm {
  kind: AnalysisKind;
  calibSamples: string;
  calibSeqLen: string;
  layers: string;
  minTokens: string;
  ckaTokens: string;
  whitened: boolean;
  method: string;
  ratio: string;
  dataset: string;
  seqLen: string;
  maxWindows: string;
}

export const DEFAULT_FORM: AnalysisForm = {
  kind: 'routing',
  calibSamples: '32',
  calibSeqLen: '256',
  layers: '',
  minTokens: '1',
  ckaTokens: '512',
  whitened: false,
  method: 'svd-llm',
  ratio: '0.4',
  dataset: 'wikitext2',
  seqLen: '2048',
  maxWindows: '',
};

/** A number field: '' = the schema default; anything else must parse (the server says what is allowed). */
function num(v: string, field: string): number | undefined {
  const t = v.trim();
  if (t === '') return undefined;
  const n = Number(t);
  if (!Number.isFinite(n)) throw new Error(`${field}: '${v}' is not a number`);
  return n;
}

export function analysisJobParams(f: AnalysisForm, model: string): Record<string, unknown> {
  const calibration: Record<string, unknown> = {};
  const s = num(f.calibSamples, 'Calibration samples');
  const l = num(f.calibSeqLen, 'Calibration tokens per sample');
  if (s !== undefined) calibration.samples = s;
  if (l !== undefined) calibration.seqLen = l;
  const p: Record<string, unknown> = { model, calibration };
  if (f.layers.trim()) p.layers = f.layers.split(',').map((x) => num(x, 'Layers'));
  const put = (key: string, v: number | undefined) => {
    if (v !== undefined) p[key] = v;
  };
  switch (f.kind) {
    case 'routing':
      put('minTokens', num(f.minTokens, 'Minimum tokens'));
      break;
    case 'similarity':
      put('ckaTokens', num(f.ckaTokens, 'CKA tokens'));
      break;
    case 'energy':
      p.whitened = f.whitened;
      break;
    case 'sensitivity': {
      p.method = f.method;
      put('ratio', num(f.ratio, 'Ratio'));
      const ev: Record<string, unknown> = {};
      if (f.dataset.trim()) ev.dataset = f.dataset.trim();
      const sl = num(f.seqLen, 'Window');
      const mw = num(f.maxWindows, 'Max windows');
      if (sl !== undefined) ev.seqLen = sl;
      if (mw !== undefined) ev.maxWindows = mw;
      p.evaluation = ev;
      break;
    }
    case 'entropy':
      break;
  }
  return p;
}
