// Builds the renderer once when it is missing or older than its sources (a lock makes parallel
// test files share one build). Kept out of vitest's globalSetup so unit-test runs never pay for it.
import { ensureRendererBuilt } from '../../src-main/server/renderer-build';

export function builtRenderer(): Promise<string> {
  return ensureRendererBuilt({ log: (line) => console.log(`[e2e] ${line}`) });
}
