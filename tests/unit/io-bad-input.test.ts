// Every bad input must fail with an EngineError naming the file and the problem, fast and without
// allocating what a corrupt length field claims.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src-main/engine/errors';
import { Checkpoint } from '../../src-main/engine/io/checkpoint';
import { loadDatasetRows, resolveDataset } from '../../src-main/engine/io/datasets';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { writeSafetensors, writeShardedCheckpoint } from '../../src-main/engine/io/safetensors-writer';
import { loadTokenizer } from '../../src-main/engine/io/tokenizer';
import { f32Bytes, rawSafetensors, tempDir, writeFile } from './io-helpers';

const dir = tempDir('moe-bad-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const FIXTURE_TOKENIZER = path.resolve(__dirname, '../fixtures/io/tiny-bpe');

let seq = 0;
function stFile(
  header: unknown,
  data: Uint8Array = new Uint8Array(0),
  opts: { lengthOverride?: bigint } = {},
): string {
  return writeFile(dir, `bad-${seq++}.safetensors`, rawSafetensors(header, data, opts));
}

/** Runs fn, expects an EngineError whose message names `file` (basename) and matches `problem`. */
function expectEngineError(fn: () => unknown, file: string, problem: RegExp): EngineError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EngineError);
  const e = err as EngineError;
  expect(e.message).toContain(path.basename(file));
  expect(e.message).toMatch(problem);
  return e;
}

async function expectEngineErrorAsync(
  fn: () => Promise<unknown>,
  file: string,
  problem: RegExp,
): Promise<void> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EngineError);
  expect((err as Error).message).toContain(path.basename(file));
  expect((err as Error).message).toMatch(problem);
}

const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

describe('safetensors: bad files', () => {
  it('empty and truncated (< 8 bytes) files', () => {
    const empty = writeFile(dir, 'empty.safetensors', new Uint8Array(0));
    expectEngineError(() => SafetensorsFile.open(empty), empty, /0 bytes, shorter than the 8-byte/);
    const short = writeFile(dir, 'short.safetensors', new Uint8Array(5));
    expectEngineError(() => SafetensorsFile.open(short), short, /5 bytes, shorter than the 8-byte/);
  });

  it('header length of 2^40 fails fast without allocating it', () => {
    const f = stFile({ a: ok }, f32Bytes([1, 2]), { lengthOverride: 2n ** 40n });
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    expectEngineError(
      () => SafetensorsFile.open(f),
      f,
      /header length 1099511627776 exceeds the 104857600-byte sanity limit/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  it('header length beyond the end of the file', () => {
    const f = stFile({ a: ok }, f32Bytes([1, 2]), { lengthOverride: 5000n });
    const before = process.memoryUsage().arrayBuffers;
    expectEngineError(
      () => SafetensorsFile.open(f),
      f,
      /header length 5000 is beyond the end of the \d+-byte file/,
    );
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it('header that is not JSON', () => {
    const f = stFile('{"a": {"dtype": "F32", ', new Uint8Array(8));
    expectEngineError(() => SafetensorsFile.open(f), f, /header: header is not valid JSON/);
  });

  it('header that is JSON but not an object', () => {
    const f = stFile('[1,2,3]');
    expectEngineError(() => SafetensorsFile.open(f), f, /header JSON must be an object/);
  });

  it('header that is not UTF-8', () => {
    const bytes = rawSafetensors('', new Uint8Array(0));
    const bad = new Uint8Array([...bytes.subarray(0, 8), 0xff, 0xfe, 0x7b]);
    new DataView(bad.buffer).setBigUint64(0, 3n, true);
    const f = writeFile(dir, 'notutf8.safetensors', bad);
    expectEngineError(() => SafetensorsFile.open(f), f, /not valid UTF-8/);
  });

  it('unknown dtype', () => {
    const f = stFile({ a: { ...ok, dtype: 'F8_E4M3' } }, new Uint8Array(8));
    expectEngineError(
      () => SafetensorsFile.open(f),
      f,
      /tensor 'a'\.dtype: unknown dtype "F8_E4M3"; supported: F64, F32/,
    );
  });

  it('negative, float and non-array shapes', () => {
    for (const shape of [[-2], [2.5], '2', [2, null]]) {
      const f = stFile({ a: { ...ok, shape } }, new Uint8Array(8));
      expectEngineError(
        () => SafetensorsFile.open(f),
        f,
        /tensor 'a'\.shape: shape .* is not an array of non-negative integers/,
      );
    }
  });

  it('data_offsets not [begin, end] integers', () => {
    for (const data_offsets of [[0], [0, 8, 9], ['0', '8'], [0.5, 8], null]) {
      const f = stFile({ a: { ...ok, data_offsets } }, new Uint8Array(8));
      expectEngineError(
        () => SafetensorsFile.open(f),
        f,
        /tensor 'a'\.data_offsets: data_offsets .* must be \[begin, end\]/,
      );
    }
  });

  it('offsets outside the data section (truncated file) and reversed offsets', () => {
    const f = stFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8));
    const e = expectEngineError(
      () => SafetensorsFile.open(f),
      f,
      /data_offsets \[0, 16\] fall outside the data section \(8 bytes/,
    );
    expect(e.hint).toMatch(/truncated/);
    const g = stFile({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, new Uint8Array(8));
    expectEngineError(() => SafetensorsFile.open(g), g, /data_offsets \[8, 0\] fall outside/);
  });

  it('overlapping tensors', () => {
    const f = stFile(
      {
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      },
      new Uint8Array(12),
    );
    expectEngineError(() => SafetensorsFile.open(f), f, /tensors 'a' \[0, 8\] and 'b' \[4, 12\] overlap/);
  });

  it('shape x dtype size disagreeing with the byte range', () => {
    const f = stFile({ a: { dtype: 'BF16', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expectEngineError(
      () => SafetensorsFile.open(f),
      f,
      /tensor 'a': shape \[3\] x BF16 needs 6 bytes but data_offsets span 8/,
    );
  });

  it('shape whose element count overflows', () => {
    const f = stFile(
      { a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } },
      new Uint8Array(8),
    );
    expectEngineError(() => SafetensorsFile.open(f), f, /needs .* bytes but data_offsets span 8/);
  });

  it('__metadata__ that is not string -> string', () => {
    const f = stFile({ __metadata__: { format: 'pt', step: 3 }, a: ok }, new Uint8Array(8));
    expectEngineError(
      () => SafetensorsFile.open(f),
      f,
      /__metadata__: value of 'step' is 3; metadata values must be strings/,
    );
    const g = stFile({ __metadata__: ['pt'], a: ok }, new Uint8Array(8));
    expectEngineError(() => SafetensorsFile.open(g), g, /__metadata__: must be an object/);
  });

  it('tensor entry that is not an object', () => {
    const f = stFile({ a: 'F32' }, new Uint8Array(8));
    expectEngineError(() => SafetensorsFile.open(f), f, /tensor 'a': entry must be an object/);
  });

  it('missing file', () => {
    const f = path.join(dir, 'nope.safetensors');
    expectEngineError(() => SafetensorsFile.open(f), f, /file not found/);
  });
});

describe('checkpoint folders: bad layouts', () => {
  const tensor = (name: string, off = 0) => ({
    [name]: { dtype: 'F32', shape: [2], data_offsets: [off, off + 8] },
  });

  it('folder without safetensors names what was expected', () => {
    const d = path.join(dir, 'ck-empty');
    writeFile(d, 'pytorch_model.bin', 'x');
    expectEngineError(
      () => Checkpoint.open(d),
      d,
      /no model\.safetensors or model\.safetensors\.index\.json in the folder/,
    );
    try {
      Checkpoint.open(d);
    } catch (e) {
      expect((e as EngineError).hint).toMatch(/pytorch_model\.bin/);
    }
  });

  it('missing folder', () => {
    const d = path.join(dir, 'ck-none');
    expectEngineError(() => Checkpoint.open(d), d, /model folder not found/);
  });

  it('index listing a missing shard', () => {
    const d = path.join(dir, 'ck-missing');
    writeFile(d, 'model-00001-of-00002.safetensors', rawSafetensors(tensor('a'), new Uint8Array(8)));
    writeFile(
      d,
      'model.safetensors.index.json',
      JSON.stringify({
        weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
      }),
    );
    expectEngineError(
      () => Checkpoint.open(d),
      path.join(d, 'model.safetensors.index.json'),
      /shard file listed in weight_map missing: model-00002-of-00002\.safetensors/,
    );
  });

  it('index that is not JSON / has no weight_map', () => {
    const d = path.join(dir, 'ck-badindex');
    const idx = writeFile(d, 'model.safetensors.index.json', '{"weight_map": ');
    expectEngineError(() => Checkpoint.open(d), idx, /not valid JSON/);
    fs.writeFileSync(idx, '{"metadata": {}}');
    expectEngineError(() => Checkpoint.open(d), idx, /missing "weight_map" object/);
    fs.writeFileSync(idx, '{"weight_map": {"a": "../x.safetensors"}}');
    expectEngineError(() => Checkpoint.open(d), idx, /must be a shard file name in the same folder/);
  });

  it('index pointing a tensor to a shard that lacks it', () => {
    const d = path.join(dir, 'ck-wrong');
    writeFile(d, 's1.safetensors', rawSafetensors(tensor('a'), new Uint8Array(8)));
    writeFile(d, 's2.safetensors', rawSafetensors(tensor('b'), new Uint8Array(8)));
    writeFile(
      d,
      'model.safetensors.index.json',
      JSON.stringify({ weight_map: { a: 's1.safetensors', b: 's1.safetensors' } }),
    );
    const ck = Checkpoint.open(d);
    expect(ck.readF32('a').length).toBe(2);
    expectEngineError(
      () => ck.readF32('b'),
      path.join(d, 's1.safetensors'),
      /maps tensor 'b' to this shard, but the shard does not contain it/,
    );
    expectEngineError(() => ck.validate(), path.join(d, 's1.safetensors'), /tensor 'b'/);
    ck.close();
  });

  it('tensor present in two shards', () => {
    const d = path.join(dir, 'ck-dup');
    writeFile(d, 's1.safetensors', rawSafetensors({ ...tensor('a'), ...tensor('b', 8) }, new Uint8Array(16)));
    writeFile(d, 's2.safetensors', rawSafetensors(tensor('b'), new Uint8Array(8)));
    writeFile(
      d,
      'model.safetensors.index.json',
      JSON.stringify({ weight_map: { a: 's1.safetensors', b: 's2.safetensors' } }),
    );
    const ck = Checkpoint.open(d);
    expectEngineError(
      () => ck.readF32('a'),
      path.join(d, 's1.safetensors'),
      /tensor 'b' is stored in this shard and also mapped to 's2\.safetensors'/,
    );
    ck.close();
  });

  it('unknown tensor name', () => {
    const d = path.join(dir, 'ck-single');
    writeFile(d, 'model.safetensors', rawSafetensors(tensor('a'), new Uint8Array(8)));
    const ck = Checkpoint.open(d);
    expectEngineError(() => ck.info('zzz'), path.join(d, 'model.safetensors'), /no tensor named 'zzz'/);
    expectEngineError(
      () => ck.readTensor('a', { transpose: true }),
      path.join(d, 'model.safetensors'),
      /transpose needs a 2-D tensor/,
    );
    ck.close();
  });
});

describe('writer: bad entries', () => {
  it('producer returning the wrong length leaves no file behind', () => {
    const f = path.join(dir, 'w-bad.safetensors');
    expectEngineError(
      () =>
        writeSafetensors(f, [{ name: 'a', dtype: 'F32', shape: [2, 3], data: () => new Float32Array(5) }]),
      f,
      /tensor 'a': producer returned 5 values; shape \[2, 3\] needs 6 f32 values/,
    );
    expect(fs.existsSync(f)).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.includes('w-bad'))).toEqual([]);
  });

  it('bad shape, dtype, duplicate name and shard size are refused before any producer runs', () => {
    const f = path.join(dir, 'w-bad2.safetensors');
    let called = 0;
    const data = () => {
      called++;
      return new Float32Array(2);
    };
    expectEngineError(
      () => writeSafetensors(f, [{ name: 'a', dtype: 'F32', shape: [-2], data }]),
      f,
      /shape \[-2\] is not an array/,
    );
    expectEngineError(
      () => writeSafetensors(f, [{ name: 'a', dtype: 'I8' as 'F32', shape: [2], data }]),
      f,
      /dtype "I8" cannot be written/,
    );
    expectEngineError(
      () =>
        writeSafetensors(f, [
          { name: 'a', dtype: 'F32', shape: [2], data },
          { name: 'a', dtype: 'F32', shape: [2], data },
        ]),
      f,
      /tensor 'a' given twice/,
    );
    const d = path.join(dir, 'w-shards');
    expectEngineError(
      () => writeShardedCheckpoint(d, [], { maxShardBytes: 0 }),
      d,
      /maxShardBytes must be positive/,
    );
    expect(called).toBe(0);
  });
});

describe('tokenizer: bad folders', () => {
  it('missing tokenizer.json names the folder', async () => {
    const d = path.join(dir, 'tok-none');
    fs.mkdirSync(d, { recursive: true });
    await expectEngineErrorAsync(() => loadTokenizer(d), d, /no tokenizer\.json in the model folder/);
  });

  it('tokenizer.json that is not JSON', async () => {
    const d = path.join(dir, 'tok-badjson');
    const f = writeFile(d, 'tokenizer.json', '{"model": {"type": "BPE"');
    await expectEngineErrorAsync(() => loadTokenizer(d), f, /tokenizer\.json is not valid JSON/);
  });

  it('unsupported model type', async () => {
    const d = path.join(dir, 'tok-type');
    const f = writeFile(d, 'tokenizer.json', JSON.stringify({ model: { type: 'SentencePieceMagic' } }));
    await expectEngineErrorAsync(
      () => loadTokenizer(d),
      f,
      /model\.type: unsupported tokenizer model type "SentencePieceMagic"/,
    );
  });

  it('tokenizer_config.json that is not JSON', async () => {
    const d = path.join(dir, 'tok-badcfg');
    fs.mkdirSync(d, { recursive: true });
    fs.copyFileSync(path.join(FIXTURE_TOKENIZER, 'tokenizer.json'), path.join(d, 'tokenizer.json'));
    const f = writeFile(d, 'tokenizer_config.json', '{bos');
    await expectEngineErrorAsync(() => loadTokenizer(d), f, /tokenizer_config\.json is not valid JSON/);
  });

  it('add_bos_token with no usable bos_token', async () => {
    const d = path.join(dir, 'tok-nobos');
    fs.mkdirSync(d, { recursive: true });
    fs.copyFileSync(path.join(FIXTURE_TOKENIZER, 'tokenizer.json'), path.join(d, 'tokenizer.json'));
    const f = writeFile(
      d,
      'tokenizer_config.json',
      JSON.stringify({ tokenizer_class: 'LlamaTokenizerFast', bos_token: '<nope>' }),
    );
    await expectEngineErrorAsync(
      () => loadTokenizer(d),
      f,
      /bos_token: bos token is to be added but bos_token is missing or not in the vocabulary/,
    );
  });
});

describe('datasets: bad specs and files', () => {
  it('unknown name that is not a file', () => {
    expectEngineError(
      () => resolveDataset('wikitext3', { dataDirs: [dir] }),
      'wikitext3',
      /neither a built-in \(wikitext2, calib, heldout, ptb, c4.*\) nor an existing file/,
    );
  });

  it('built-in missing from the data dirs names what was looked for', () => {
    expectEngineError(
      () => resolveDataset('ptb', { dataDirs: [dir] }),
      dir,
      /built-in dataset 'ptb' not found: looked for ptb\/ptb\.test\.txt/,
    );
  });

  it('unsupported extension', () => {
    const f = writeFile(dir, 'data.csv', 'a,b\n');
    expectEngineError(() => resolveDataset(f), f, /unsupported dataset file type/);
  });

  it('empty dataset', async () => {
    const f = writeFile(dir, 'empty.txt', '\n\n\n');
    await expectEngineErrorAsync(
      () => loadDatasetRows(resolveDataset(f)),
      f,
      /dataset is empty \(3 rows, no text\)/,
    );
  });

  it('jsonl line that is not JSON names the line', async () => {
    const f = writeFile(dir, 'bad.jsonl', '{"text": "a"}\n{"text": "b"}\n{"text": oops}\n');
    await expectEngineErrorAsync(
      () => loadDatasetRows(resolveDataset(f)),
      f,
      /line 3: line 3 is not valid JSON/,
    );
  });

  it('jsonl line without a text string names the line', async () => {
    const f = writeFile(dir, 'notext.jsonl', '{"text": "a"}\n\n{"body": "b"}\n');
    await expectEngineErrorAsync(
      () => loadDatasetRows(resolveDataset(f)),
      f,
      /line 3\.text: line 3 has no string "text" field/,
    );
  });

  it('parquet that is not parquet', async () => {
    const f = writeFile(dir, 'fake.parquet', 'this is not parquet at all');
    await expectEngineErrorAsync(() => loadDatasetRows(resolveDataset(f)), f, /not a readable parquet file/);
  });

  it('corrupt gzip', async () => {
    const f = writeFile(dir, 'bad.jsonl.gz', 'not gzip');
    await expectEngineErrorAsync(() => loadDatasetRows(resolveDataset(f)), f, /not a valid gzip file/);
  });
});
