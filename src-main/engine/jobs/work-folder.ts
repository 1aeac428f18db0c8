// A run's folders, checked before any work: the output folder must be writable (found out by
// writing, not by a recursive mkdir, which spins forever under /proc), the work folder is one the
// workbench created (a marker file says so, and only such a folder is ever deleted), one run at a
// time holds it (a lock file naming the process), and the disk has room for the estimate.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { formatBytes } from '../../contract/units';
import { EngineError } from '../errors';

export const WORK_MARKER = '.moe-workbench-work';
const LOCK = '.lock';
/** what a work folder of the runner holds (a marker of a run racing this one included) */
const RUNNER_FILES = new Set(['plan.json', 'progress.json', 'steps', LOCK, WORK_MARKER]);
const isRunnerFile = (f: string) => RUNNER_FILES.has(f) || f.startsWith(`${LOCK}.`);

/** The nearest existing folder at or above `dir`, and the segments below it that are missing. */
function existingAncestor(dir: string, field: string): { base: string; missing: string[] } {
  let head = path.resolve(dir);
  const missing: string[] = [];
  for (;;) {
    let st: fs.Stats | null = null;
    try {
      st = fs.statSync(head);
    } catch {
      st = null;
    }
    if (st) {
      if (!st.isDirectory())
        throw new EngineError(`'${head}' exists and is not a folder`, {
          field,
          hint: 'choose an output folder that is a folder or does not exist yet',
        });
      return { base: head, missing };
    }
    const parent = path.dirname(head);
    if (parent === head) return { base: head, missing };
    missing.unshift(path.basename(head));
    head = parent;
  }
}

/**
 * Throws an EngineError naming the folder unless files can be created in `dir`: the missing
 * folders are made one at a time (each failure is a clear error), a probe file is written, and
 * what the check created is removed again. Runs checking sibling folders at once (sweep workers)
 * race on the shared missing parents: a parent another check made (EEXIST) or removed under us
 * (ENOENT, retried) is not an error, and a made folder someone else now uses (ENOTEMPTY) stays.
 */
export function checkOutputFolder(dir: string, field: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      probeOutputFolder(dir, field);
      return;
    } catch (e) {
      if (!(e instanceof RacedError) || attempt >= 8) throw e instanceof RacedError ? e.error : e;
    }
  }
}

/** A failure that a concurrent check removing a shared parent can explain: worth one more try. */
class RacedError extends Error {
  constructor(readonly error: EngineError) {
    super(error.message);
  }
}

function probeOutputFolder(dir: string, field: string): void {
  const { base, missing } = existingAncestor(dir, field);
  const made: string[] = [];
  let at = base;
  try {
    for (const seg of missing) {
      at = path.join(at, seg);
      try {
        fs.mkdirSync(at);
        made.push(at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    const probe = path.join(at, `.write-probe-${process.pid}-${randomUUID()}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const error = new EngineError(`cannot write in '${at}' (${code ?? (e as Error).message})`, {
      field,
      file: path.resolve(dir),
      hint: 'choose an output folder on a writable disk',
    });
    throw code === 'ENOENT' ? new RacedError(error) : error;
  } finally {
    for (const d of made.reverse()) {
      try {
        fs.rmdirSync(d);
      } catch {
        // another run's folder is inside it now (ENOTEMPTY) or it already went: leave it
      }
    }
  }
}

/** Fails before the work when the file system holding `dir` has less than `bytes` free. */
export function checkFreeSpace(dir: string, bytes: number, field: string, what: string): void {
  const { base } = existingAncestor(dir, field);
  let free: number;
  try {
    const s = fs.statfsSync(base);
    free = s.bavail * s.bsize;
  } catch {
    return; // no statfs here: the write itself reports ENOSPC with the file
  }
  if (free < bytes)
    throw new EngineError(
      `not enough free disk space: ${what} needs about ${formatBytes(bytes)}, ${formatBytes(free)} free`,
      {
        file: base,
        field,
        hint: 'free some space or choose a folder on another disk',
      },
    );
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Makes `dir` this run's work folder: created with the marker, or an existing one that carries the
 * marker (a resume) or is empty; anything else is a user folder and refused. Takes the lock; a lock
 * of a live other process is refused (two runs sharing an output folder), a dead one's is taken
 * over. Returns the release.
 */
export function claimWorkFolder(dir: string, field = 'workDir'): () => void {
  checkOutputFolder(dir, field);
  fs.mkdirSync(dir, { recursive: true });
  const marker = path.join(dir, WORK_MARKER);
  if (!fs.existsSync(marker)) {
    // a work folder written before the marker existed holds only the runner's own files
    if (fs.readdirSync(dir).some((f) => !isRunnerFile(f)))
      throw new EngineError(`'${dir}' already holds files the workbench did not create`, {
        field,
        hint: 'choose another output or work folder; the workbench never writes into or deletes a folder it did not create',
      });
    fs.writeFileSync(marker, 'created by MoE Workbench: per-layer work files of one run\n');
  }
  const lock = path.join(dir, LOCK);
  // the lock appears whole or not at all (a link of a file already holding the pid): a second
  // process never reads a half-written lock and mistakes it for a stale one
  const mine = `${lock}.${process.pid}.${randomUUID()}`;
  fs.writeFileSync(mine, String(process.pid));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkOrCreate(mine, lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = lockHolder(lock);
        if (attempt > 0 || (pid !== null && pid !== process.pid && pidAlive(pid)))
          throw new EngineError(`the work folder is in use by another run (process ${pid ?? 'unknown'})`, {
            file: dir,
            field,
            hint: 'wait for that run to finish, or give this run another --out',
          });
        // left by a process that is gone: take it over, if nobody else has meanwhile
        if (lockHolder(lock) === pid) fs.rmSync(lock, { force: true });
      }
    }
  } finally {
    fs.rmSync(mine, { force: true });
  }
  return () => fs.rmSync(lock, { force: true });
}

/** The pid a lock file names, or null (unreadable, gone, or not a pid). */
function lockHolder(lock: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(lock, 'utf8'), 10);
    return Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** `target` made atomically from the finished `source`; where links are not supported, created exclusively. */
function linkOrCreate(source: string, target: string): void {
  try {
    fs.linkSync(source, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    fs.writeFileSync(target, fs.readFileSync(source), { flag: 'wx' });
  }
}

/** Deletes `dir` only when the marker says the workbench created it; returns whether it did. */
export function removeWorkFolder(dir: string): boolean {
  if (!fs.existsSync(path.join(dir, WORK_MARKER))) return false;
  fs.rmSync(dir, { recursive: true, force: true });
  return true;
}
