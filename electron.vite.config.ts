// electron-vite build: main (Electron entry + the engine worker), preload (CommonJS, which a
// sandboxed preload requires) and the renderer (same config as the browser-mode build).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const contractAlias = { '@contract': here('./src-main/contract') };

export default defineConfig({
  main: {
    resolve: { alias: contractAlias },
    build: {
      outDir: here('./out/main'),
      rollupOptions: {
        input: {
          index: here('./src-main/index.ts'),
          'engine-worker': here('./src-main/host/worker.ts'),
        },
      },
    },
  },
  preload: {
    resolve: { alias: contractAlias },
    build: {
      outDir: here('./out/preload'),
      // Sandboxed preloads cannot load modules: bundle everything, emit CommonJS.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: here('./src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: rendererConfig(),
});
