// Finds the built renderer for browser mode and (re)builds it on demand when its sources are newer
// than the build. The build goes to a scratch folder and is swapped in whole, under a lock, so a
// running server or a parallel test never sees half-written files.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCES = ['src-renderer', 'src-main/contract', 'src-main/server/csp.ts', 'vite.renderer.config.ts'];
const LOCK_STALE_MS = 10 * 60_000;

export function rendererDirIn(root: string): string {
  return path.join(root, 'out', 'renderer');
}

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(p)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(p, name)));
  }
  return newest;
}

/** Why the renderer must be (re)built, or null when the build is current. */
export function rendererBuildNeed(root: string): string | null {
  const index = path.join(rendererDirIn(root), 'index.html');
  if (!existsSync(index)) return 'the renderer is not built';
  const built = statSync(index).mtimeMs;
  const sources = Math.max(...SOURCES.map((s) => newestMtime(path.join(root, s))));
  return sources > built ? 'renderer sources changed since the last build' : null;
}

function viteBin(root: string): string | null {
  try {
    const req = createRequire(path.join(root, 'package.json'));
    const pkgPath = req.resolve('vite/package.json');
    const bin = (req(pkgPath) as { bin?: Record<string, string> }).bin?.vite ?? 'bin/vite.js';
    return path.join(path.dirname(pkgPath), bin);
  } catch {
    return null;
  }
}

function run(cmd: string, args: string[], cwd: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (b: Buffer) => {
      output += b.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) {
        log('renderer built');
        resolve();
      } else reject(new Error(`renderer build failed (exit ${code}):\n${output.slice(-4000)}`));
    });
  });
}

async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - statSync(lockDir, { throwIfNoEntry: false })!.mtimeMs;
      if (age > LOCK_STALE_MS) rmSync(lockDir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

export interface EnsureRendererOptions {
  root?: string;
  log?: (line: string) => void;
}

/** The built renderer folder, building it first when missing or stale (needs vite, a dev dependency). */
export async function ensureRendererBuilt(opts: EnsureRendererOptions = {}): Promise<string> {
  const root = opts.root ?? REPO_ROOT;
  const log = opts.log ?? (() => {});
  const outDir = rendererDirIn(root);
  if (rendererBuildNeed(root) === null) return outDir;
  mkdirSync(path.join(root, 'out'), { recursive: true });
  return withLock(path.join(root, 'out', '.renderer-build.lock'), async () => {
    const need = rendererBuildNeed(root); // another process may have built it while we waited
    if (need === null) return outDir;
    const vite = viteBin(root);
    if (!vite || !existsSync(path.join(root, 'vite.renderer.config.ts'))) {
      throw new Error(`${need} and vite is not available to build it: run \`npm run build\` first`);
    }
    log(`${need}; building it (vite)…`);
    const scratch = path.join(root, 'out', `.renderer-${process.pid}`);
    rmSync(scratch, { recursive: true, force: true });
    await run(
      process.execPath,
      [
        vite,
        'build',
        '--config',
        'vite.renderer.config.ts',
        '--outDir',
        scratch,
        '--emptyOutDir',
        '--logLevel',
        'warn',
      ],
      root,
      log,
    );
    rmSync(outDir, { recursive: true, force: true });
    renameSync(scratch, outDir);
    return outDir;
  });
}
