// Ctrl+C for a whole CLI invocation, in every phase. One SIGINT listener for the process, installed
// by main(): while a command has registered a graceful stop (a running job, a sweep, a server) the
// first Ctrl+C calls it (finished work is kept: layers, points, the store) and says so; any other
// Ctrl+C (a second one, or one while nothing is registered: resolving, planning, opening the store)
// exits at once with a message and code 130. With no listener left Node would kill the process
// silently, and one listener per command cannot see the second press.

/** What the signal source must offer: `process` does. */
export interface SignalSource {
  on(signal: 'SIGINT', listener: () => void): unknown;
  off(signal: 'SIGINT', listener: () => void): unknown;
}

/** The exit code of a process stopped by SIGINT (128 + 2), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;

export interface Interrupts {
  /**
   * Until the returned function is called, the first Ctrl+C calls `stop` after printing `note`
   * (plus how to stop at once). One registration at a time: a later one replaces the earlier.
   */
  onInterrupt(stop: () => void, note: string): () => void;
  /** Removes the process listener (main() at the end of the invocation). */
  uninstall(): void;
}

export function installInterrupts(
  report: (line: string) => void,
  exit: (code: number) => void,
  source: SignalSource = process,
): Interrupts {
  let presses = 0;
  let graceful: { stop: () => void; note: string } | null = null;
  const listener = () => {
    presses++;
    if (presses === 1 && graceful) {
      const { stop, note } = graceful;
      report(`${note} (press Ctrl+C again to stop at once)`);
      stop();
      return;
    }
    report(
      presses === 1
        ? 'moe-bench: interrupted'
        : 'moe-bench: interrupted again: stopping at once (a run in progress is recorded as interrupted; run the same command to resume)',
    );
    exit(INTERRUPTED_EXIT_CODE);
  };
  source.on('SIGINT', listener);
  return {
    onInterrupt(stop, note) {
      const entry = { stop, note };
      graceful = entry;
      return () => {
        if (graceful === entry) graceful = null;
      };
    },
    uninstall: () => source.off('SIGINT', listener),
  };
}

/** Resolves on the first Ctrl+C (graceful, `note` printed) or on SIGTERM: long-running commands. */
export function untilStopped(
  ctx: { onInterrupt: Interrupts['onInterrupt'] },
  note: string,
): Promise<'SIGINT' | 'SIGTERM'> {
  return new Promise((resolve) => {
    const onTerm = () => {
      offInterrupt();
      resolve('SIGTERM');
    };
    const offInterrupt = ctx.onInterrupt(() => {
      process.off('SIGTERM', onTerm);
      resolve('SIGINT');
    }, note);
    process.once('SIGTERM', onTerm);
  });
}
