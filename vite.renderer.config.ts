// Renderer-only build for browser mode (`moe-bench serve`, e2e tests): the same output that
// electron-vite's renderer step writes to out/renderer, without needing Electron.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { CONTENT_SECURITY_POLICY } from './src-main/server/csp';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Puts the CSP into the built page; the dev server needs inline scripts for HMR, so build only. */
function cspMeta(): Plugin {
  return {
    name: 'moe-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY },
        injectTo: 'head-prepend',
      },
    ],
  };
}

/** Shared by this config and electron.vite.config.ts so both builds are identical. */
export function rendererConfig(): UserConfig {
  return {
    root: here('./src-renderer'),
    // Relative asset URLs: the same build loads from file:// (Electron) and http:// (browser mode).
    base: './',
    plugins: [react(), cspMeta()],
    resolve: { alias: { '@contract': here('./src-main/contract') } },
    build: {
      outDir: here('./out/renderer'),
      emptyOutDir: true,
      target: 'es2022',
      minify: 'esbuild',
      sourcemap: false,
      rollupOptions: { input: here('./src-renderer/index.html') },
    },
  };
}

export default defineConfig(rendererConfig());
