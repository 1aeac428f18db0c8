// Engine worker bootstrap when running from sources: make this worker thread understand
// TypeScript, then load the real worker. The bundled build starts out/main/engine-worker.js instead.
import { register } from 'tsx/esm/api';

register();
await import('./worker-main.ts');
