// Ctrl+C in every phase of a CLI run (cli/interrupts.ts): with a graceful stop registered the first
// press calls it and says how to stop at once; a second press, or a press while none is registered,
// exits at once with code 130 and a message. A fake signal source: no real signals here (the
// child-process test is tests/integration/cli-sigint.test.ts).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { INTERRUPTED_EXIT_CODE, installInterrupts } from '../../src-main/cli/interrupts';

function harness() {
  const source = new EventEmitter();
  const lines: string[] = [];
  const exits: number[] = [];
  const interrupts = installInterrupts(
    (l) => lines.push(l),
    (c) => exits.push(c),
    source as never,
  );
  return { source, lines, exits, interrupts, press: () => source.emit('SIGINT') };
}

describe('Ctrl+C', () => {
  it('first press during a job: the graceful stop, once; the second exits 130 with a message', () => {
    const h = harness();
    let stops = 0;
    h.interrupts.onInterrupt(() => stops++, 'cancelling…');
    h.press();
    expect(stops).toBe(1);
    expect(h.lines).toEqual(['cancelling… (press Ctrl+C again to stop at once)']);
    expect(h.exits).toEqual([]);
    h.press();
    expect(stops).toBe(1);
    expect(h.exits).toEqual([INTERRUPTED_EXIT_CODE]);
    expect(INTERRUPTED_EXIT_CODE).toBe(130);
    expect(h.lines[1]).toMatch(/^moe-bench: interrupted again: stopping at once/);
  });

  it('a press while nothing is registered (resolving, planning, opening the store) exits at once', () => {
    const h = harness();
    const off = h.interrupts.onInterrupt(() => {
      throw new Error('not registered any more');
    }, 'x');
    off();
    h.press();
    expect(h.exits).toEqual([130]);
    expect(h.lines).toEqual(['moe-bench: interrupted']);
  });

  it('a later registration replaces the earlier; an old unregister leaves the new one', () => {
    const h = harness();
    const calls: string[] = [];
    const offA = h.interrupts.onInterrupt(() => calls.push('a'), 'a');
    h.interrupts.onInterrupt(() => calls.push('b'), 'b');
    offA();
    h.press();
    expect(calls).toEqual(['b']);
  });

  it('uninstall removes the one process listener', () => {
    const h = harness();
    expect(h.source.listenerCount('SIGINT')).toBe(1);
    h.interrupts.uninstall();
    expect(h.source.listenerCount('SIGINT')).toBe(0);
  });
});
