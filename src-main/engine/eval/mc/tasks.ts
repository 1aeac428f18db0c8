// The seven zero-shot multiple-choice tasks (METHODS §8.2), as lm-evaluation-harness 0.4 defines
// them: split, which metrics the task reports, and where its documents are read from. tfjs-free:
// the params schemas, the pipeline config and the CLI import it.

export const MC_TASKS = [
  'arc_easy',
  'arc_challenge',
  'openbookqa',
  'piqa',
  'hellaswag',
  'winogrande',
  'mathqa',
] as const;
export type McTaskName = (typeof MC_TASKS)[number];

export interface McTaskFile {
  /** path relative to a data root (resources/data, the shared data folder, --data-dir) */
  file: string;
  /** how the file is read (eval/mc/task-data.ts) */
  format: McFileFormat;
  /** labels file beside it (PIQA's valid-labels.lst), relative to the same root */
  labels?: string;
}

export type McFileFormat =
  | 'arc-jsonl' // AI2 ARC / OpenBookQA release: {question: {stem, choices: [{text, label}]}, answerKey}
  | 'piqa-jsonl' // {goal, sol1, sol2} + a labels file
  | 'hellaswag-jsonl' // the original release / HF rows: {activity_label, ctx_a, ctx_b, endings, label}
  | 'hellaswag-txt' // llama.cpp text: 6 lines per item (context, label, 4 endings), already cleaned
  | 'winogrande-jsonl' // {sentence, option1, option2, answer}
  | 'mathqa-json'; // JSON array of {Problem, options, correct, ...}

export interface McTaskSpec {
  name: McTaskName;
  /** the split lm-eval scores (its test_split, else validation_split) */
  split: 'test' | 'validation';
  /** lm-eval's metric_list: every task reports acc; all but WinoGrande also acc_norm */
  accNorm: boolean;
  /**
   * candidate files in lookup order, the full release first, then the first documents shipped in
   * resources/data; candidate order goes before root order, so a full set anywhere wins
   */
  files: McTaskFile[];
  description: string;
}

export const MC_TASK_SPECS: Record<McTaskName, McTaskSpec> = {
  arc_easy: {
    name: 'arc_easy',
    split: 'test',
    accNorm: true,
    files: [
      { file: 'arc_easy/ARC-Easy-Test.jsonl', format: 'arc-jsonl' },
      { file: 'arc_easy/ARC-Easy-Test.first1000.jsonl', format: 'arc-jsonl' },
    ],
    description: 'ARC-Easy test (AI2 Reasoning Challenge)',
  },
  arc_challenge: {
    name: 'arc_challenge',
    split: 'test',
    accNorm: true,
    files: [
      { file: 'arc_challenge/ARC-Challenge-Test.jsonl', format: 'arc-jsonl' },
      { file: 'arc_challenge/ARC-Challenge-Test.first1000.jsonl', format: 'arc-jsonl' },
    ],
    description: 'ARC-Challenge test',
  },
  openbookqa: {
    name: 'openbookqa',
    split: 'test',
    accNorm: true,
    files: [
      { file: 'openbookqa/OpenBookQA-V1-Sep2018/Data/Main/test.jsonl', format: 'arc-jsonl' },
      { file: 'openbookqa/test.jsonl', format: 'arc-jsonl' },
    ],
    description: 'OpenBookQA main test',
  },
  piqa: {
    name: 'piqa',
    split: 'validation',
    accNorm: true,
    files: [
      { file: 'piqa/valid.jsonl', format: 'piqa-jsonl', labels: 'piqa/valid-labels.lst' },
      { file: 'piqa/valid.first1000.jsonl', format: 'piqa-jsonl', labels: 'piqa/valid-labels.first1000.lst' },
    ],
    description: 'PIQA validation',
  },
  hellaswag: {
    name: 'hellaswag',
    split: 'validation',
    accNorm: true,
    files: [
      // the original rows give lm-eval's construction exactly; the llama.cpp text lacks the
      // ctx_a/ctx_b split (see docs/evaluation.md)
      { file: 'hellaswag/hellaswag_val.jsonl', format: 'hellaswag-jsonl' },
      { file: 'hellaswag/hellaswag_val_full.txt', format: 'hellaswag-txt' },
      { file: 'hellaswag/hellaswag_val.first1000.txt', format: 'hellaswag-txt' },
    ],
    description: 'HellaSwag validation',
  },
  winogrande: {
    name: 'winogrande',
    split: 'validation',
    accNorm: false,
    files: [{ file: 'winogrande/dev.jsonl', format: 'winogrande-jsonl' }],
    description: 'WinoGrande dev (winogrande_xl validation), partial scoring',
  },
  mathqa: {
    name: 'mathqa',
    split: 'test',
    accNorm: true,
    files: [
      { file: 'mathqa/test.json', format: 'mathqa-json' },
      { file: 'mathqa/test.first1000.json', format: 'mathqa-json' },
    ],
    description: 'MathQA test',
  },
};

export function isMcTask(name: string): name is McTaskName {
  return (MC_TASKS as readonly string[]).includes(name);
}
