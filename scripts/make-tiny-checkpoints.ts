// Writes tiny seeded HF-layout MoE checkpoints (see tests/support/tiny-checkpoints.ts).
// Usage: npx tsx scripts/make-tiny-checkpoints.ts --out DIR [--arch A] [--dtype F32|BF16] [--shards N]
//        [--layers N] [--hidden N] [--seed N] [--vocab N]
// Without --arch, every architecture is written to DIR/<arch>; with --arch, to DIR itself.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TINY_ARCHS, type TinyArch, writeTinyCheckpoint } from '../tests/support/tiny-checkpoints';

function intOpt(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got ${v}`);
  return n;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      arch: { type: 'string' },
      dtype: { type: 'string', default: 'F32' },
      shards: { type: 'string' },
      layers: { type: 'string' },
      hidden: { type: 'string' },
      seed: { type: 'string' },
      vocab: { type: 'string' },
    },
  });
  if (!values.out) throw new Error('--out DIR is required');
  if (values.dtype !== 'F32' && values.dtype !== 'BF16') throw new Error('--dtype: expected F32 or BF16');
  if (values.arch && !TINY_ARCHS.includes(values.arch as TinyArch)) {
    throw new Error(`--arch: expected one of ${TINY_ARCHS.join(', ')}`);
  }
  const archs = values.arch ? [values.arch as TinyArch] : TINY_ARCHS;
  for (const arch of archs) {
    const dir = values.arch ? values.out : join(values.out, arch);
    const { tensorNames } = writeTinyCheckpoint(dir, {
      arch,
      dtype: values.dtype,
      shards: intOpt(values.shards, 'shards'),
      layers: intOpt(values.layers, 'layers'),
      hidden: intOpt(values.hidden, 'hidden'),
      seed: values.seed === undefined ? undefined : Number(values.seed),
      vocab: intOpt(values.vocab, 'vocab'),
    });
    console.log(`${arch}: ${tensorNames.length} tensors -> ${dir}`);
  }
}

main();
