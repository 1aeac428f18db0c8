// Document → requests, exactly as lm-evaluation-harness 0.4 builds them for zero-shot
// multiple choice (lm_eval/tasks/<task>/*.yaml and utils.py, api/task.py construct_requests and
// process_results):
//   - one request per choice: (doc_to_text, target_delimiter + choice), target_delimiter = " ";
//   - multiple-input tasks (WinoGrande): one request per context, (choice_i, " " + shared target);
//   - gold = doc_to_target (doc_to_text for multiple input); a gold outside the choices is -100,
//     which lm-eval scores 0 for acc and acc_norm;
//   - acc_norm divides each log-likelihood by len(doc_to_choice(doc)[i]) in characters.
import { EngineError } from '../../errors';
import { pyCapitalize, pyLstrip, pyRstripChars, pyStrip } from './python-str';
import type { McTaskName } from './tasks';

export interface McRequest {
  context: string;
  continuation: string;
}

export interface McDoc {
  /** one per choice, in choice order */
  requests: McRequest[];
  /** doc_to_choice(doc): the strings whose character lengths normalise acc_norm */
  choices: string[];
  /** index of the right choice; -100 when lm-eval's gold falls outside the choices */
  gold: number;
}

export const TARGET_DELIMITER = ' ';

/** Raw documents with the Hugging Face data set's field names. */
export interface ArcDoc {
  question: string;
  choices: { text: string[]; label: string[] };
  answerKey: string;
}
export interface OpenBookQaDoc {
  question_stem: string;
  choices: { text: string[]; label: string[] };
  answerKey: string;
}
export interface PiqaDoc {
  goal: string;
  sol1: string;
  sol2: string;
  label: number;
}
/** HF `hellaswag` rows; `query` instead of activity_label/ctx_a/ctx_b for the pre-joined text form. */
export type HellaswagDoc =
  | { activity_label: string; ctx_a: string; ctx_b: string; endings: string[]; label: number | string }
  | { query: string; endings: string[]; label: number | string };
export interface WinograndeDoc {
  sentence: string;
  option1: string;
  option2: string;
  answer: string;
}
export interface MathQaDoc {
  Problem: string;
  options: string;
  correct: string;
}

export interface McRawDocs {
  arc_easy: ArcDoc;
  arc_challenge: ArcDoc;
  openbookqa: OpenBookQaDoc;
  piqa: PiqaDoc;
  hellaswag: HellaswagDoc;
  winogrande: WinograndeDoc;
  mathqa: MathQaDoc;
}

function docError(task: string, index: number, message: string): EngineError {
  return new EngineError(`${task} document ${index}: ${message}`, { field: `${task}[${index}]` });
}

/** A standard task: the same context for every choice, the choice after the delimiter. */
function perChoice(context: string, choices: string[], gold: number): McDoc {
  return {
    requests: choices.map((c) => ({ context, continuation: `${TARGET_DELIMITER}${c}` })),
    choices,
    gold: Number.isInteger(gold) && gold >= 0 && gold < choices.length ? gold : -100,
  };
}

/** `{{choices.label.index(answerKey)}}`: Jinja raises on a missing key, so do we. */
function labelIndex(task: string, i: number, labels: string[], key: string): number {
  const g = labels.indexOf(key);
  if (g < 0) throw docError(task, i, `answerKey ${JSON.stringify(key)} is not among labels [${labels}]`);
  return g;
}

/** lm_eval/tasks/hellaswag/utils.py `preprocess`. */
export function hellaswagPreprocess(text: string): string {
  let t = pyStrip(text);
  // Brackets are artifacts of the WikiHow part of HellaSwag.
  t = t.replaceAll(' [title]', '. ');
  t = t.replace(/\[.*?\]/g, '');
  t = t.replaceAll('  ', ' ');
  return t;
}

/** lm_eval/tasks/mathqa/utils.py: the options string `a ) x , b ) y , … e ) z` split into choices. */
export function mathqaChoices(options: string): string[] {
  // `$` without the m flag is end of input; Python's also matches before a final "\n"
  const src = options.endsWith('\n') ? options.slice(0, -1) : options;
  return [...src.matchAll(/[abcd] \) .*?, |e \) .*?$/g)].map((m) => pyRstripChars(m[0].slice(4), ' ,'));
}

/** preprocess_winogrande.py: the context up to the blank with each option, the rest as target. */
export function winograndeParts(doc: WinograndeDoc): { contexts: string[]; target: string } {
  const idx = doc.sentence.indexOf('_');
  if (idx < 0) throw new EngineError('WinoGrande sentence has no "_" blank', { field: 'sentence' });
  return {
    contexts: [doc.option1, doc.option2].map((o) => doc.sentence.slice(0, idx) + o),
    target: pyStrip(doc.sentence.slice(idx + 1)),
  };
}

type Builder<T> = (doc: T, index: number) => McDoc;

const arc: Builder<ArcDoc> = (d, i) =>
  perChoice(
    `Question: ${d.question}\nAnswer:`,
    d.choices.text,
    labelIndex('arc', i, d.choices.label, d.answerKey),
  );

export const MC_DOC_BUILDERS: { [K in McTaskName]: Builder<McRawDocs[K]> } = {
  arc_easy: arc,
  arc_challenge: arc,
  openbookqa: (d, i) =>
    perChoice(
      d.question_stem,
      d.choices.text,
      labelIndex('openbookqa', i, d.choices.label, pyLstrip(d.answerKey)),
    ),
  piqa: (d) => perChoice(`Question: ${d.goal}\nAnswer:`, [d.sol1, d.sol2], d.label),
  hellaswag: (d) => {
    const query =
      'query' in d
        ? hellaswagPreprocess(d.query)
        : hellaswagPreprocess(`${d.activity_label}: ${d.ctx_a} ${pyCapitalize(d.ctx_b)}`);
    return perChoice(query, d.endings.map(hellaswagPreprocess), Number(d.label));
  },
  winogrande: (d, i) => {
    const gold = { '1': 0, '2': 1 }[d.answer];
    if (gold === undefined)
      throw docError('winogrande', i, `answer ${JSON.stringify(d.answer)} is not "1" or "2"`);
    const { contexts, target } = winograndeParts(d);
    // multiple_inputs: the zero-shot fewshot context is "", so each context is the choice itself
    return {
      requests: contexts.map((context) => ({ context, continuation: `${TARGET_DELIMITER}${target}` })),
      choices: contexts,
      gold,
    };
  },
  mathqa: (d, i) => {
    const gold = ['a', 'b', 'c', 'd', 'e'].indexOf(d.correct);
    if (gold < 0) throw docError('mathqa', i, `correct ${JSON.stringify(d.correct)} is not one of a..e`);
    return perChoice(`Question: ${d.Problem}\nAnswer:`, mathqaChoices(d.options), gold);
  },
};

export function buildMcDoc<K extends McTaskName>(task: K, doc: McRawDocs[K], index: number): McDoc {
  return MC_DOC_BUILDERS[task](doc, index);
}
