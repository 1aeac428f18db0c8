// No compute backend could be initialised (a forced one that is not installed, or none at all).
// Carries every backend's probe so callers can still report why each was skipped or failed. Kept
// apart from backend.ts so the main thread can use it without loading tfjs.
import type { BackendName, BackendProbe } from '../../contract/index';
import { EngineError } from '../errors';

export function backendHint(forced: BackendName | undefined): string {
  return forced
    ? `install the package for '${forced}' (README, "Compute backends"), or drop --backend / MOE_BACKEND to use the best available one`
    : 'reinstall with `npm ci`: @tensorflow/tfjs-backend-wasm should always load';
}

export class BackendUnavailableError extends EngineError {
  readonly probes: BackendProbe[];
  constructor(message: string, probes: BackendProbe[], hint: string) {
    super(message, { hint });
    this.name = 'BackendUnavailableError';
    this.probes = probes;
  }
}
