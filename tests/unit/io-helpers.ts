// Shared helpers for the io tests: temp folders and hand-built safetensors bytes (independent of
// the writer under test).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix = 'moe-io-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A safetensors file from a header object (or raw header text) and a data section. */
export function rawSafetensors(
  header: unknown,
  data: Uint8Array,
  opts: { lengthOverride?: bigint } = {},
): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

export function writeFile(dir: string, name: string, bytes: Uint8Array | string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return file;
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
