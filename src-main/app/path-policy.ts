// Which paths a client of the app may name. The CLI is the local user on their own machine and
// writes where they say; the Electron renderer and a browser-mode client are not trusted that far:
// what they ask a job to write (outDir, workDir, out) resolves inside the workbench home or a folder
// the user allowed (a native dialog pick, `serve --allow-root`), and what they ask to read (model
// folders, data files, calibration / evaluation text, token-id files, search roots) resolves inside
// those folders or the install's built-in resources. Links are resolved before the check. In the
// desktop app a folder elsewhere becomes usable by picking it in a native dialog (`allow`).
import path from 'node:path';
import { confinePath, realPathOf } from '../engine/io/path-confinement';
import type { ResolverRoots } from '../engine/io/resolver';
import type { AppOptions } from './services';

/** job params a job writes to */
const WRITE_KEYS = new Set(['outDir', 'workDir', 'out']);
/** job params (at any depth: config.calibration.text, evaluations[i].text) a job reads */
const READ_KEYS = new Set(['text', 'tokenIds']);
const READ_LIST_KEYS = new Set(['modelDirs', 'dataDirs']);
/** a config nested deeper than this is refused by the pipeline schema anyway */
const MAX_WALK_DEPTH = 32;

/** a data set reference that names a file rather than a built-in (wikitext2, calib, …) */
const looksLikePath = (ref: string) => /[\\/]/.test(ref) || path.extname(ref) !== '';

export class PathPolicy {
  private readonly allowed: string[];

  constructor(
    private readonly mode: AppOptions['mode'],
    private readonly home: string,
    private readonly resources: ResolverRoots,
    allowedRoots: readonly string[] = [],
  ) {
    this.allowed = allowedRoots.map((r) => path.resolve(r));
  }

  get confinesWrites(): boolean {
    return this.mode !== 'cli';
  }

  get confinesReads(): boolean {
    return this.mode !== 'cli';
  }

  /** A folder the user picked in a native dialog: the client may use it from now on. */
  allow(dir: string): void {
    this.allowed.push(realPathOf(dir));
  }

  writeRoots(): string[] {
    return [this.home, ...this.allowed];
  }

  readRoots(): string[] {
    return [...this.writeRoots(), ...this.resources.modelRoots, ...this.resources.datasetRoots];
  }

  /** A file or folder a client asks to read (models.add, datasets.add): its real path, confined. */
  readPath(given: string, field: string): string {
    return this.confinesReads ? confinePath(given, this.home, this.readRoots(), field) : realPathOf(given);
  }

  /**
   * A client's job params with every path checked: relative ones resolve against the home (not the
   * server's working folder), the ones outside the allowed roots throw an EngineError naming the field.
   */
  jobParams(params: Record<string, unknown>, takesReferences = true): Record<string, unknown> {
    if (!this.confinesWrites) return params;
    const reads = this.confinesReads;
    const baseGiven = typeof params.baseDir === 'string' ? params.baseDir : undefined;
    const baseDir = baseGiven === undefined ? this.home : baseGiven;
    if (reads && baseGiven !== undefined)
      confinePath(baseGiven, this.home, this.readRoots(), 'params.baseDir');
    // a job without the reference fields keeps its params as given (its schema is strict)
    const out: Record<string, unknown> = takesReferences ? { ...params, baseDir } : { ...params };
    for (const key of WRITE_KEYS) {
      const v = params[key];
      if (typeof v === 'string') confinePath(v, baseDir, this.writeRoots(), `params.${key}`);
    }
    if (reads) {
      for (const key of READ_LIST_KEYS) {
        const v = params[key];
        if (Array.isArray(v))
          v.forEach((d, i) => {
            if (typeof d === 'string') confinePath(d, baseDir, this.readRoots(), `params.${key}[${i}]`);
          });
      }
      const walk = (v: unknown, at: string, depth: number) => {
        if (depth > MAX_WALK_DEPTH || v === null || typeof v !== 'object') return;
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          const field = Array.isArray(v) ? `${at}[${k}]` : `${at}.${k}`;
          if (typeof x === 'string' && (READ_KEYS.has(k) || (k === 'dataset' && looksLikePath(x))))
            confinePath(x, baseDir, this.readRoots(), field);
          else walk(x, field, depth + 1);
        }
      };
      walk(params, 'params', 0);
    }
    return out;
  }
}
