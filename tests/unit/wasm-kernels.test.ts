// The committed base64 modules are exactly what the .wat sources compile to, so a kernel edited in
// its source and not rebuilt (npm run build:wasm) fails here rather than running stale code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compiledKernelModules, KERNELS } from '../../scripts/build-wasm-kernels';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('WebAssembly kernels', () => {
  it('each generated module equals the compilation of its .wat source', async () => {
    const built = await compiledKernelModules();
    expect(built.map((b) => b.out)).toEqual(KERNELS.map((k) => k.out));
    for (const { out, text } of built) expect(fs.readFileSync(path.join(root, out), 'utf8')).toBe(text);
  });
});
