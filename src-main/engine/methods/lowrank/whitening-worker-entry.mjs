// Whitening thread bootstrap when running from sources: make this worker thread understand
// TypeScript, then load the real worker. The bundled build starts out/main/whitening-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./whitening-worker.ts');
