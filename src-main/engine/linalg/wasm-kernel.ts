// Compiled WebAssembly kernels (the .wat sources next to their callers, built by
// scripts/build-wasm-kernels.ts): each is compiled once per thread and instantiated by its caller.
import { EngineError } from '../errors';

const compiled = new Map<string, WebAssembly.Module>();

/** The compiled module of a generated base64 kernel; `source` names its .wat file in errors. */
export function kernelModule(base64: string, source: string): WebAssembly.Module {
  let mod = compiled.get(source);
  if (mod) return mod;
  try {
    mod = new WebAssembly.Module(Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0)));
  } catch (e) {
    throw new EngineError(`the kernel does not compile: ${(e as Error).message}`, {
      file: source,
      field: 'module',
      hint: 'this JavaScript runtime needs WebAssembly SIMD (Node ≥ 16.4, Electron ≥ 14)',
    });
  }
  compiled.set(source, mod);
  return mod;
}
