// Waiting on what a child process printed, without sleeps: resolves as soon as the stderr seen so far
// matches, rejects when the child exits first (with what it printed).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

export function stderrMatches(
  child: ChildProcessWithoutNullStreams,
  seen: { err: string },
  re: RegExp,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!re.test(seen.err)) return;
      child.stderr.off('data', check);
      child.off('exit', early);
      resolve();
    };
    const early = () => reject(new Error(`exited before ${re}: ${seen.err}`));
    child.stderr.on('data', check);
    child.once('exit', early);
    check();
  });
}
