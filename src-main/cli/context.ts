// What every command gets: the global options, output helpers that keep --json output pure, and
// the App opened lazily (commands that need no store never open one).
import fs from 'node:fs';
import type { Command } from 'commander';
import type { WorkbenchApp } from '../app/create-app';
import type { BackendName } from '../contract/index';
import { EngineError } from '../engine/errors';
import { parseJson } from '../engine/io/json-depth';

export interface GlobalOptions {
  home: string | undefined;
  backend: BackendName | undefined;
  json: boolean;
  verbose: boolean;
}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface CliContext {
  readonly io: CliIo;
  /** The global options (--home, --backend, --json, --verbose) as parsed for this invocation. */
  globals(): GlobalOptions;
  /** Opens the App once per invocation with the global options; main() closes it at exit. */
  app(): Promise<WorkbenchApp>;
  /** With --json: `data` as JSON on stdout. Otherwise: `human(data)` as text on stdout. */
  output<T>(data: T, human: (data: T) => string): void;
  /** Progress and notes: always stderr, so stdout stays machine-readable. */
  progress(line: string): void;
  /** Read and parse a JSON file; throws an EngineError naming the file and the problem. */
  readJsonFile(file: string, what: string): unknown;
  /**
   * The graceful stop the first Ctrl+C calls until the returned function is called (cli/interrupts.ts);
   * a second Ctrl+C, or one while none is registered, exits at once.
   */
  onInterrupt(stop: () => void, note: string): () => void;
}

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new EngineError(`cannot read ${what} (${code})`, { file });
  }
  try {
    return parseJson(text);
  } catch (e) {
    throw new EngineError(`${what} is not valid JSON: ${(e as Error).message}`, {
      file,
      hint: 'check for trailing commas, comments or unquoted keys',
    });
  }
}
