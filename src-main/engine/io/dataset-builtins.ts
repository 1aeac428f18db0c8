// Built-in evaluation / calibration data sets: a name resolves to the first candidate file found
// in the data dirs. One line per data set; add new ones (e.g. app-bundled `calib`, `heldout` under
// resources/data/) by appending to BUILTIN_DATASETS.
import type { DatasetFormat } from './dataset-rows';

export interface BuiltinCandidate {
  /** Path relative to a data dir. */
  file: string;
  format: DatasetFormat;
  /** Keep only the first `limit` rows. */
  limit?: number;
}

export interface BuiltinDataset {
  name: string;
  description: string;
  candidates: BuiltinCandidate[];
}

export const BUILTIN_DATASETS: BuiltinDataset[] = [
  {
    name: 'wikitext2',
    description: 'WikiText-2 raw test split (HF wikitext-2-raw-v1 rows)',
    candidates: [
      { file: 'wikitext2_raw/wiki.test.raw', format: 'wikitext-raw' },
      { file: 'wikitext2/wiki.test.raw', format: 'wikitext-raw' }, // bundled copy (resources/data)
    ],
  },
  {
    name: 'calib',
    description: 'C4 training-domain calibration slice bundled with the app (resources/data/calib)',
    candidates: [{ file: 'calib/c4-calib.txt', format: 'documents' }],
  },
  {
    name: 'heldout',
    description: 'C4 held-out text of the embedded tiny models (resources/data/heldout)',
    candidates: [{ file: 'heldout/c4-heldout.txt', format: 'documents' }],
  },
  {
    name: 'ptb',
    description: 'Penn Treebank test (HF ptb_text_only `sentence` rows)',
    candidates: [{ file: 'ptb/ptb.test.txt', format: 'ptb' }],
  },
  {
    // SVD-LLM / D²-MoE: the first 2000 docs of en validation shard 0. The real shard is used when
    // present; otherwise the local copy of that shard's first 1,025 docs (an exact prefix of the
    // convention's 2000, hence the same docs the papers start with; the token count is ~half).
    name: 'c4',
    description: 'C4 en validation shard 0, first 2000 docs (SVD-LLM/D²-MoE convention)',
    candidates: [
      { file: 'c4/c4-validation.00000-of-00008.json.gz', format: 'jsonl', limit: 2000 },
      { file: 'c4/c4-validation.00000-of-00008.json', format: 'jsonl', limit: 2000 },
      { file: 'c4/derived/c4_validation_00000_first1025.jsonl', format: 'jsonl', limit: 2000 },
    ],
  },
  {
    // 2,000 C4 validation docs, but a sample rather than the shard-0 prefix.
    name: 'c4-2k',
    description: 'C4 validation, 2000 sampled docs (not the shard-0 prefix)',
    candidates: [
      { file: 'c4/c4_validation_2k.parquet', format: 'parquet' },
      { file: 'c4/derived/c4_validation_2k.jsonl', format: 'jsonl' },
    ],
  },
];
