// electron-vite build: main (Electron entry + the engine worker), preload (CommonJS, which a
// sandboxed preload requires) and the renderer (same config as the browser-mode build).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// electron-vite derives its Node/Chrome build targets from the installed electron package. Where
// that optional package is absent (no binary download possible) the build must still work: take
// the major version the project declares instead.
function declaredElectronMajor(): string {
  const pkg = JSON.parse(readFileSync(here('./package.json'), 'utf8'));
  const range: string = pkg.optionalDependencies?.electron ?? pkg.devDependencies?.electron ?? '';
  return /(\d+)/.exec(range)?.[1] ?? '';
}
try {
  createRequire(import.meta.url).resolve('electron/package.json');
} catch {
  process.env.ELECTRON_MAJOR_VER ||= declaredElectronMajor();
}
const contractAlias = { '@contract': here('./src-main/contract') };

export default defineConfig({
  main: {
    resolve: { alias: contractAlias },
    build: {
      outDir: here('./out/main'),
      rollupOptions: {
        input: {
          index: here('./src-main/index.ts'),
          'engine-worker': here('./src-main/host/worker-main.ts'),
          'whitening-worker': here('./src-main/engine/methods/lowrank/whitening-worker.ts'),
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
