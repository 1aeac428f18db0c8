// One colour per method family across the sweep charts (P prune, M merge, D decompose, T layer
// drop, S sparsify, Q quantize), picked to stay distinct for common colour-vision deficiencies.
const COLORS: Record<string, string> = {
  P: '#0072b2',
  M: '#e69f00',
  D: '#009e73',
  T: '#cc79a7',
  S: '#56b4e9',
  Q: '#d55e00',
};
export const familyColor = (f: string) => COLORS[f] ?? '#777777';
export const FAMILY_NAMES: Record<string, string> = {
  P: 'prune',
  M: 'merge',
  D: 'decompose',
  T: 'layer drop',
  S: 'sparsify',
  Q: 'quantize',
};
