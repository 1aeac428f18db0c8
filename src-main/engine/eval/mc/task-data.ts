// A task's documents from its data files, converted to the Hugging Face rows lm-eval reads
// (eval/mc/documents.ts). The files are the original releases as gathered in the shared data
// folder (see its SOURCES.md); resources/data ships the first documents of each in the same
// layout, so the same relative path resolves in either root.
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../../errors';
import type { McRawDocs } from './documents';
import { MC_TASK_SPECS, type McFileFormat, type McTaskFile, type McTaskName } from './tasks';

export interface McTaskData<K extends McTaskName = McTaskName> {
  task: K;
  /** absolute path of the file read */
  file: string;
  format: McFileFormat;
  docs: McRawDocs[K][];
  /** documents in the file (before --limit) */
  total: number;
}

const isFile = (p: string) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The first candidate file of `task` found in `roots` (candidate order, then root order). */
export function findTaskFile(task: McTaskName, roots: readonly string[]): { root: string; spec: McTaskFile } {
  const spec = MC_TASK_SPECS[task];
  for (const c of spec.files) {
    for (const root of roots)
      if (isFile(path.resolve(root, c.file))) return { root: path.resolve(root), spec: c };
  }
  throw new EngineError(`no data for task '${task}' in the data folders`, {
    field: 'task',
    file: roots.join(path.delimiter) || '(no data dirs)',
    hint: `expected one of ${spec.files.map((f) => f.file).join(', ')} under a data folder (--data-dir)`,
  });
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new EngineError(`cannot read task data (${(e as NodeJS.ErrnoException).code ?? String(e)})`, {
      file,
    });
  }
}

function jsonLines(file: string): unknown[] {
  return readText(file)
    .split('\n')
    .flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        return [JSON.parse(line)];
      } catch (e) {
        throw new EngineError(`line ${i + 1} is not valid JSON (${(e as Error).message})`, { file });
      }
    });
}

function str(v: unknown, file: string, what: string): string {
  if (typeof v !== 'string')
    throw new EngineError(`${what} is ${JSON.stringify(v)}, expected a string`, { file });
  return v;
}

interface ArcRow {
  question: { stem: unknown; choices: { text: unknown; label: unknown }[] };
  answerKey: unknown;
}

function arcRows(file: string): { question: string; text: string[]; label: string[]; answerKey: string }[] {
  return (jsonLines(file) as ArcRow[]).map((r, i) => {
    const choices = r?.question?.choices;
    if (!Array.isArray(choices)) throw new EngineError(`row ${i}: question.choices is missing`, { file });
    return {
      question: str(r.question.stem, file, `row ${i} question.stem`),
      text: choices.map((c, j) => str(c.text, file, `row ${i} choice ${j} text`)),
      label: choices.map((c, j) => str(c.label, file, `row ${i} choice ${j} label`)),
      answerKey: str(r.answerKey, file, `row ${i} answerKey`),
    };
  });
}

function readDocs(task: McTaskName, file: string, spec: McTaskFile, root: string): unknown[] {
  switch (spec.format) {
    case 'arc-jsonl': {
      const rows = arcRows(file);
      return task === 'openbookqa'
        ? rows.map((r) => ({
            question_stem: r.question,
            choices: { text: r.text, label: r.label },
            answerKey: r.answerKey,
          }))
        : rows.map((r) => ({
            question: r.question,
            choices: { text: r.text, label: r.label },
            answerKey: r.answerKey,
          }));
    }
    case 'piqa-jsonl': {
      const rows = jsonLines(file) as { goal: unknown; sol1: unknown; sol2: unknown }[];
      const labelsFile = path.resolve(root, spec.labels!);
      const labels = readText(labelsFile)
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map(Number);
      if (labels.length < rows.length)
        throw new EngineError(`${labels.length} labels for ${rows.length} PIQA rows`, { file: labelsFile });
      return rows.map((r, i) => ({
        goal: str(r.goal, file, `row ${i} goal`),
        sol1: str(r.sol1, file, `row ${i} sol1`),
        sol2: str(r.sol2, file, `row ${i} sol2`),
        label: labels[i],
      }));
    }
    case 'hellaswag-jsonl':
      return jsonLines(file);
    case 'hellaswag-txt': {
      // llama.cpp hellaswag text: per item, the cleaned `activity_label: ctx`, the gold label and
      // the four cleaned endings, one per line
      const lines = readText(file).split('\n');
      if (lines.at(-1) === '') lines.pop();
      if (lines.length % 6 !== 0)
        throw new EngineError(`${lines.length} lines, not a multiple of 6 (context, label, 4 endings)`, {
          file,
        });
      const out = [];
      for (let k = 0; k < lines.length; k += 6)
        out.push({ query: lines[k]!, label: Number(lines[k + 1]), endings: lines.slice(k + 2, k + 6) });
      return out;
    }
    case 'winogrande-jsonl':
      return jsonLines(file);
    case 'mathqa-json': {
      let rows: unknown;
      try {
        rows = JSON.parse(readText(file));
      } catch (e) {
        throw new EngineError(`not valid JSON (${(e as Error).message})`, { file });
      }
      if (!Array.isArray(rows)) throw new EngineError('expected a JSON array of problems', { file });
      return rows;
    }
  }
}

/** The first `limit` documents of `task` (all when limit is undefined). */
export function loadTaskData<K extends McTaskName>(
  task: K,
  roots: readonly string[],
  limit?: number,
): McTaskData<K> {
  const { root, spec } = findTaskFile(task, roots);
  const file = path.resolve(root, spec.file);
  const all = readDocs(task, file, spec, root) as McRawDocs[K][];
  if (all.length === 0) throw new EngineError(`task '${task}' has no documents`, { file });
  return {
    task,
    file,
    format: spec.format,
    docs: limit === undefined ? all : all.slice(0, limit),
    total: all.length,
  };
}
