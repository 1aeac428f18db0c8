import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { '@contract': fileURLToPath(new URL('./src-main/contract', import.meta.url)) },
  },
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // two cores: numeric tests fight each other if run wide
    maxWorkers: 2,
    // one wasm thread per fork: 2 forks × 2 XNNPACK threads would oversubscribe the two cores
    // (tests/unit/wasm-threads.test.ts starts its own child with more)
    env: { MOE_THREADS: '1' },
  },
});
