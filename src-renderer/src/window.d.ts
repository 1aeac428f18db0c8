import type { MoeBridge } from '../../src-preload/bridge';

declare global {
  interface Window {
    /** Present only inside the Electron shell (set by the preload). */
    moeApi?: MoeBridge;
  }
}
