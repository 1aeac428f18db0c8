// Issue 17's table-driven malformed-input suite: every row is one bad input (safetensors, sharded
// indexes, configs, tokenizers, data sets, pipelines, work state, client paths, wire frames, CLI
// arguments, workbench checkpoints) and must give a clear error — the expected message naming the
// file / field — within a time bound, never a crash (a RangeError, a raw errno, a stack overflow),
// a hang or a silent success. In-process throughout (the CLI rows call main()); the tallies print
// at the end (cases, clear errors, crashes, hangs, silent results).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathPolicy } from '../../src-main/app/path-policy';
import { main } from '../../src-main/cli';
import { readJsonFile } from '../../src-main/cli/context';
import { EngineError } from '../../src-main/engine/errors';
import { Checkpoint } from '../../src-main/engine/io/checkpoint';
import { loadDatasetRows } from '../../src-main/engine/io/datasets';
import { parseJson } from '../../src-main/engine/io/json-depth';
import { realPathOf, safeSegment } from '../../src-main/engine/io/path-confinement';
import { createResolver } from '../../src-main/engine/io/resolver';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { sourceTokens } from '../../src-main/engine/io/token-source';
import { loadTokenizer } from '../../src-main/engine/io/tokenizer';
import {
  checkOutputFolder,
  claimWorkFolder,
  removeWorkFolder,
  WORK_MARKER,
} from '../../src-main/engine/jobs/work-folder';
import { openModel } from '../../src-main/engine/model/model';
import { parsePipelineConfig } from '../../src-main/engine/pipeline/config';
import { planPipeline } from '../../src-main/engine/pipeline/plan';
import { sameOrigin } from '../../src-main/server/ws-api';
import { trustedUrlCheck } from '../../src-main/shell/trust';
import { storeFailure } from '../../src-main/store/store-error';
import { writeTinyCheckpoint } from '../support/tiny-checkpoints';
import { f32Bytes, rawSafetensors, tempDir, writeFile } from './io-helpers';

/** `error`: the message must match (file and field named); `ok`: must succeed, optionally checked */
type Outcome = { error: RegExp } | { ok: (v: unknown) => void };
interface Case {
  group: string;
  name: string;
  run: () => unknown;
  want: Outcome;
  /** wall-clock bound, ms */
  ms?: number;
}

const tally = { cases: 0, clearErrors: 0, accepted: 0, crashes: 0, hangs: 0, silent: 0 };
const crashLike = (e: unknown) =>
  e instanceof RangeError ||
  /Maximum call stack|heap out of memory|Cannot read properties|is not a function/.test(
    String((e as Error)?.message),
  );

let dir: string;
let model: string;
let sharded: string;
const cases: Case[] = [];
const add = (group: string, name: string, run: () => unknown, want: Outcome, ms?: number) =>
  cases.push({ group, name, run, want, ...(ms ? { ms } : {}) });
const err = (re: RegExp): Outcome => ({ error: re });

// ---------------------------------------------------------------------------------- fixtures ----
beforeAll(() => {
  dir = tempDir('malformed-');
  model = path.join(dir, 'model');
  writeTinyCheckpoint(model, { arch: 'mixtral', layers: 2, seed: 1 });
  sharded = path.join(dir, 'sharded');
  writeTinyCheckpoint(sharded, { arch: 'mixtral', layers: 2, seed: 1, shards: 2 });
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(
    `malformed inputs: ${tally.cases} cases, ${tally.clearErrors} clear errors, ${tally.accepted} accepted as valid, crashes ${tally.crashes}, hangs ${tally.hangs}, silent wrong results ${tally.silent}`,
  );
});

/** a copy of the tiny model with config.json fields replaced (or the whole text) */
function modelWith(name: string, patch: Record<string, unknown> | string): string {
  const d = path.join(dir, `m-${name}`);
  fs.cpSync(model, d, { recursive: true });
  const cfgFile = path.join(d, 'config.json');
  if (typeof patch === 'string') fs.writeFileSync(cfgFile, patch);
  else
    fs.writeFileSync(cfgFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfgFile, 'utf8')), ...patch }));
  return d;
}

const st =
  (name: string, header: unknown, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint) =>
  () => {
    const f = writeFile(
      dir,
      `st/${name}.safetensors`,
      rawSafetensors(header, data, lengthOverride ? { lengthOverride } : {}),
    );
    const file = SafetensorsFile.open(f);
    try {
      for (const n of Object.keys(typeof header === 'object' && header ? header : {}))
        if (n !== '__metadata__') file.readF32(n);
    } finally {
      file.close();
    }
  };
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

// ------------------------------------------------------------------------------ safetensors ----
const T = (dtype: string, shape: unknown, offsets: unknown) => ({
  t: { dtype, shape, data_offsets: offsets },
});
add(
  'safetensors',
  'empty file',
  () => SafetensorsFile.open(writeFile(dir, 'st/empty.safetensors', new Uint8Array(0))),
  err(/empty\.safetensors: header: file is 0 bytes, shorter than the 8-byte header length prefix/),
);
add(
  'safetensors',
  '4-byte file',
  () => SafetensorsFile.open(writeFile(dir, 'st/four.safetensors', new Uint8Array(4))),
  err(/four\.safetensors/),
);
add(
  'safetensors',
  'header length 2^40',
  st('huge-len', {}, new Uint8Array(0), 2n ** 40n),
  err(/huge-len\.safetensors.*header/i),
);
add(
  'safetensors',
  'header length past the end',
  st('past-end', {}, new Uint8Array(0), 4096n),
  err(/past-end\.safetensors.*header/i),
);
add('safetensors', 'header not JSON', st('not-json', '{nope'), err(/not-json\.safetensors: header: .*JSON/));
add('safetensors', 'header a JSON array', st('array', '[1,2]'), err(/array\.safetensors: header/));
add('safetensors', 'header a JSON string', st('string', '"x"'), err(/string\.safetensors: header/));
add('safetensors', 'header JSON null', st('null', 'null'), err(/null\.safetensors: header/));
add(
  'safetensors',
  'header nested 50k deep',
  st('deep', `{"t":${deep(50_000)}}`),
  err(/deep\.safetensors: header: .*nested deeper than 256/),
);
add(
  'safetensors',
  "unknown dtype 'F8'",
  st('dtype-f8', T('F8', [1], [0, 1]), new Uint8Array(1)),
  err(/dtype-f8\.safetensors: .*t.*dtype/),
);
add(
  'safetensors',
  "dtype 'float32' (torch spelling)",
  st('dtype-torch', T('float32', [1], [0, 4]), f32Bytes([1])),
  err(/dtype-torch\.safetensors: .*dtype/),
);
add(
  'safetensors',
  'dtype a number',
  st('dtype-num', T(7 as never, [1], [0, 4]), f32Bytes([1])),
  err(/dtype-num\.safetensors: .*dtype/),
);
add(
  'safetensors',
  'negative shape',
  st('shape-neg', T('F32', [-1], [0, 4]), f32Bytes([1])),
  err(/shape-neg\.safetensors: .*shape/),
);
add(
  'safetensors',
  'fractional shape',
  st('shape-frac', T('F32', [1.5], [0, 4]), f32Bytes([1])),
  err(/shape-frac\.safetensors: .*shape/),
);
add(
  'safetensors',
  'shape a string',
  st('shape-str', T('F32', '1' as never, [0, 4]), f32Bytes([1])),
  err(/shape-str\.safetensors: .*shape/),
);
add(
  'safetensors',
  'shape element count overflows',
  st('shape-big', T('F32', [2 ** 40, 2 ** 40], [0, 4]), f32Bytes([1])),
  err(/shape-big\.safetensors: .*t/),
);
add(
  'safetensors',
  'data_offsets missing',
  st('off-missing', { t: { dtype: 'F32', shape: [1] } }, f32Bytes([1])),
  err(/off-missing\.safetensors: .*data_offsets/),
);
add(
  'safetensors',
  'data_offsets of three numbers',
  st('off-three', T('F32', [1], [0, 4, 8]), f32Bytes([1])),
  err(/off-three\.safetensors: .*data_offsets/),
);
add(
  'safetensors',
  'data_offsets reversed',
  st('off-rev', T('F32', [1], [4, 0]), f32Bytes([1])),
  err(/off-rev\.safetensors: .*t/),
);
add(
  'safetensors',
  'data_offsets past the data (truncated file)',
  st('off-past', T('F32', [4], [0, 16]), f32Bytes([1])),
  err(/off-past\.safetensors: .*t/),
);
add(
  'safetensors',
  'shape x dtype disagrees with the byte range',
  st('size-mismatch', T('F32', [2], [0, 4]), f32Bytes([1])),
  err(/size-mismatch\.safetensors: .*t/),
);
add(
  'safetensors',
  'overlapping tensors',
  st(
    'overlap',
    {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    },
    new Uint8Array(12),
  ),
  err(/overlap\.safetensors/),
);
add(
  'safetensors',
  '__metadata__ with a number value',
  st('meta', { __metadata__: { a: 1 } }),
  err(/meta\.safetensors: .*__metadata__/),
);
add('safetensors', 'entry not an object', st('entry', { t: 5 }), err(/entry\.safetensors: .*t/));
add(
  'safetensors',
  'NaN in an F32 tensor',
  st('nan-f32', T('F32', [3], [0, 12]), f32Bytes([1, Number.NaN, 2])),
  err(/nan-f32\.safetensors: tensor 't': non-finite value NaN at element 1/),
);
add(
  'safetensors',
  '+Inf in an F32 tensor',
  st('inf-f32', T('F32', [2], [0, 8]), f32Bytes([Number.POSITIVE_INFINITY, 2])),
  err(/inf-f32\.safetensors: tensor 't': non-finite value Infinity at element 0/),
);
add(
  'safetensors',
  '-Inf in a BF16 tensor (paired decode)',
  st(
    'inf-bf16',
    T('BF16', [4], [0, 8]),
    new Uint8Array(new Uint16Array([0x3f80, 0x3f80, 0xff80, 0x3f80]).buffer),
  ),
  err(/inf-bf16\.safetensors: tensor 't': non-finite value -Infinity at element 2/),
);
add(
  'safetensors',
  'NaN in a BF16 tensor (odd tail)',
  st('nan-bf16', T('BF16', [3], [0, 6]), new Uint8Array(new Uint16Array([0x3f80, 0x3f80, 0x7fc1]).buffer)),
  err(/nan-bf16\.safetensors: tensor 't': non-finite value NaN at element 2/),
);
add(
  'safetensors',
  'NaN in an F16 tensor',
  st('nan-f16', T('F16', [2], [0, 4]), new Uint8Array(new Uint16Array([0x7e00, 0x3c00]).buffer)),
  err(/nan-f16\.safetensors: tensor 't': non-finite value NaN at element 0/),
);
add(
  'safetensors',
  'Inf in an F64 tensor',
  st('inf-f64', T('F64', [1], [0, 8]), new Uint8Array(new Float64Array([Number.POSITIVE_INFINITY]).buffer)),
  err(/inf-f64\.safetensors: tensor 't': non-finite/),
);
add(
  'safetensors',
  'F64 beyond the f32 range becomes Inf',
  st('big-f64', T('F64', [1], [0, 8]), new Uint8Array(new Float64Array([1e300]).buffer)),
  err(/big-f64\.safetensors: tensor 't': non-finite/),
);
add(
  'safetensors',
  'finite bf16 extremes decode',
  st('ok-bf16', T('BF16', [3], [0, 6]), new Uint8Array(new Uint16Array([0x7f7f, 0xff7f, 0x0001]).buffer)),
  { ok: () => {} },
);
add(
  'safetensors',
  'missing file',
  () => SafetensorsFile.open(path.join(dir, 'nope.safetensors')),
  err(/nope\.safetensors: file not found/),
);

// ---------------------------------------------------------------------------- sharded index ----
const shardedWith = (name: string, mutate: (d: string) => void) => () => {
  const d = path.join(dir, `sh-${name}`);
  fs.cpSync(sharded, d, { recursive: true });
  mutate(d);
  const ck = Checkpoint.open(d);
  try {
    for (const n of ck.names()) ck.info(n);
  } finally {
    ck.close();
  }
};
const IDX = 'model.safetensors.index.json';
const editIndex = (d: string, f: (i: { weight_map: Record<string, string> }) => unknown) => {
  const file = path.join(d, IDX);
  fs.writeFileSync(file, JSON.stringify(f(JSON.parse(fs.readFileSync(file, 'utf8')))));
};
add(
  'index',
  'index not JSON',
  shardedWith('not-json', (d) => fs.writeFileSync(path.join(d, IDX), '{')),
  err(/index\.json: not valid JSON/),
);
add(
  'index',
  'index nested 50k deep',
  shardedWith('deep', (d) => fs.writeFileSync(path.join(d, IDX), `{"weight_map":${deep(50_000)}}`)),
  err(/index\.json: not valid JSON \(nested deeper than 256/),
);
add(
  'index',
  'no weight_map',
  shardedWith('no-map', (d) => editIndex(d, () => ({ metadata: {} }))),
  err(/index\.json: weight_map/),
);
add(
  'index',
  'weight_map an array',
  shardedWith('map-array', (d) => editIndex(d, () => ({ weight_map: [] }))),
  err(/index\.json: weight_map/),
);
add(
  'index',
  'a listed shard missing',
  shardedWith('shard-missing', (d) =>
    fs.rmSync(path.join(d, fs.readdirSync(d).find((f) => f.startsWith('model-00002-'))!)),
  ),
  err(/index\.json: weight_map: shard file listed in weight_map missing: model-00002-/),
);
add(
  'index',
  'a tensor mapped to a shard lacking it',
  shardedWith('wrong-shard', (d) =>
    editIndex(d, (i) => {
      const [k] = Object.keys(i.weight_map);
      const other = Object.values(i.weight_map).find((v) => v !== i.weight_map[k!])!;
      return { weight_map: { ...i.weight_map, [k!]: other } };
    }),
  ),
  err(/safetensors/),
);
add(
  'index',
  'a shard path leaving the folder',
  shardedWith('traversal', (d) =>
    editIndex(d, (i) => {
      const [k] = Object.keys(i.weight_map);
      return { weight_map: { ...i.weight_map, [k!]: '../../etc/x.safetensors' } };
    }),
  ),
  err(/index\.json|x\.safetensors/),
);

// ----------------------------------------------------------------------------------- config ----
const cfg = (name: string, patch: Record<string, unknown> | string, re: RegExp) =>
  add(
    'config',
    name,
    () => openModel(modelWith(name.replace(/\W+/g, '-'), patch)).checkpoint.close(),
    err(re),
    5000,
  );
cfg(
  'num_hidden_layers 1e9 (was a heap abort after 52 s)',
  { num_hidden_layers: 1e9 },
  /config\.json: num_hidden_layers: .*1024/,
);
cfg(
  'num_local_experts 1e9 (grew without end)',
  { num_local_experts: 1e9 },
  /config\.json: num_local_experts: .*4096/,
);
cfg('hidden_size 1e9', { hidden_size: 1e9 }, /config\.json: hidden_size/);
cfg('vocab_size 1e12', { vocab_size: 1e12 }, /config\.json: vocab_size/);
cfg('intermediate_size 1e9', { intermediate_size: 1e9 }, /config\.json: intermediate_size/);
cfg('num_attention_heads 1e6', { num_attention_heads: 1e6 }, /config\.json: num_attention_heads/);
cfg('num_hidden_layers 0', { num_hidden_layers: 0 }, /config\.json: num_hidden_layers/);
cfg('num_hidden_layers -1', { num_hidden_layers: -1 }, /config\.json: num_hidden_layers/);
cfg('num_hidden_layers 1.5', { num_hidden_layers: 1.5 }, /config\.json: num_hidden_layers/);
cfg("num_hidden_layers '2' (a string)", { num_hidden_layers: '2' }, /config\.json: num_hidden_layers/);
cfg('more layers than the tensors hold', { num_hidden_layers: 6 }, /model\.layers\.2\./);
cfg(
  'more experts than the tensors hold',
  { num_local_experts: 16 },
  /model\.safetensors: model\.layers\.0\.block_sparse_moe\.gate\.weight: .*config implies \[16,64\]/,
);
cfg('num_local_experts 0', { num_local_experts: 0 }, /config\.json: num_local_experts/);
cfg('top-k above the expert count', { num_experts_per_tok: 99 }, /config\.json: num_experts_per_tok/);
cfg("hidden_act 'gelu'", { hidden_act: 'gelu' }, /config\.json: hidden_act/);
cfg("rope_scaling 'yarn'", { rope_scaling: { rope_type: 'yarn', factor: 4 } }, /config\.json: rope_scaling/);
cfg('unknown model_type', { model_type: 'gpt-moe-9000' }, /config\.json: model_type|gpt-moe-9000/);
cfg('config.json not JSON', '{"model_type": ', /config\.json: invalid JSON/);
cfg('config.json a JSON array', '[]', /config\.json: expected a JSON object/);
cfg(
  'config.json nested 50k deep',
  `{"a":${deep(50_000)}}`,
  /config\.json: invalid JSON \(nested deeper than 256/,
);
add('config', 'no config.json', () => openModel(dir), err(/config\.json/));

// ------------------------------------------------------------------------------- tokenizer ----
const tokWith = (name: string, mutate: (d: string) => void) => () => {
  const d = path.join(dir, `tok-${name}`);
  fs.cpSync(model, d, { recursive: true });
  mutate(d);
  return loadTokenizer(d);
};
add(
  'tokenizer',
  'no tokenizer.json',
  tokWith('missing', (d) => fs.rmSync(path.join(d, 'tokenizer.json'))),
  err(/tokenizer\.json/),
);
add(
  'tokenizer',
  'tokenizer.json not JSON',
  tokWith('not-json', (d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), '{')),
  err(/tokenizer\.json.*not valid JSON/),
);
add(
  'tokenizer',
  'tokenizer.json nested 50k deep',
  tokWith('deep', (d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), `{"model":${deep(50_000)}}`)),
  err(/tokenizer\.json.*nested deeper than 256/),
);
add(
  'tokenizer',
  'unsupported model type',
  tokWith('type', (d) => {
    const f = path.join(d, 'tokenizer.json');
    const j = JSON.parse(fs.readFileSync(f, 'utf8'));
    j.model.type = 'Unigram';
    fs.writeFileSync(f, JSON.stringify(j));
  }),
  err(
    /tokenizer\.json: model\.vocab: model\.type is "Unigram", whose model\.vocab must be a list of \[piece, score\] pairs/,
  ),
);
add(
  'tokenizer',
  'tokenizer_config.json not JSON',
  tokWith('cfg', (d) => fs.writeFileSync(path.join(d, 'tokenizer_config.json'), '{x')),
  err(/tokenizer_config\.json.*not valid JSON/),
);

// --------------------------------------------------------------------------------- datasets ----
const resolver = () => createResolver({ baseDir: dir, modelRoots: [], datasetRoots: [] });
const rows = (name: string, content: string | Uint8Array) => () => {
  const f = writeFile(dir, `data/${name}`, content);
  return loadDatasetRows(resolver().resolveDataset(f));
};
add('dataset', 'unknown built-in name', () => resolver().resolveDataset('wikitext9'), err(/wikitext9/));
add('dataset', 'unsupported extension', rows('x.docx', 'hello'), err(/x\.docx.*unsupported|expected/));
add('dataset', 'empty text file', rows('empty.txt', ''), err(/empty\.txt.*(empty|no rows)/i));
add('dataset', 'jsonl line not JSON', rows('bad.jsonl', '{"text":"a"}\n{oops\n'), err(/bad\.jsonl.*line 2/));
add(
  'dataset',
  'jsonl line without text',
  rows('notext.jsonl', '{"text":"a"}\n{"body":"b"}\n'),
  err(/notext\.jsonl.*line 2/),
);
add(
  'dataset',
  'parquet that is not parquet',
  rows('fake.parquet', 'not parquet at all'),
  err(/fake\.parquet/),
);
add(
  'dataset',
  'corrupt gzip',
  rows('bad.jsonl.gz', new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3])),
  err(/bad\.jsonl\.gz/),
);
add(
  'dataset',
  '/dev/zero as a text (grew 250 MB/s): refused, not read',
  async () => {
    const tok = await loadTokenizer(model);
    const r = createResolver({ baseDir: '/', modelRoots: [], datasetRoots: [] });
    return sourceTokens({ text: '/dev/zero' }, r, tok, 'evaluations[0].', 64);
  },
  err(/\/dev\/zero: evaluations\[0\]\.text: is not a regular file/),
  5000,
);
add(
  'dataset',
  '20 MB one-line text, 2 windows: only a prefix is tokenized',
  async () => {
    const f = path.join(dir, 'data/long.txt');
    fs.writeFileSync(f, 'word '.repeat(4_000_000));
    const tok = await loadTokenizer(model);
    const capped = await sourceTokens({ text: f }, resolver(), tok, '', 2 * 32);
    const whole = tok.encode(fs.readFileSync(f, 'utf8').slice(0, 4096));
    // the kept ids are exactly the whole text's first ids
    expect(capped.ids).toEqual(whole.slice(0, 64));
    return capped;
  },
  { ok: (v) => expect((v as { notes: string[] }).notes[0]).toMatch(/first \d+ chars/) },
  5000,
);
add(
  'dataset',
  'text shorter than the cap: the whole file',
  async () => {
    const f = writeFile(dir, 'data/short.txt', 'a b c');
    const tok = await loadTokenizer(model);
    return sourceTokens({ text: f }, resolver(), tok, '', 1000);
  },
  { ok: (v) => expect((v as { notes: string[] }).notes[0]).toMatch(/whole file/) },
);

// -------------------------------------------------------------------------------- pipelines ----
const base = () => ({
  version: 1,
  name: 'p',
  model,
  calibration: { samples: 4, seqLen: 32 },
  target: { ratio: 0.2 },
  steps: [{ method: 'svd-llm' }],
});
const pipe = (name: string, patch: Record<string, unknown> | number, re: RegExp) =>
  add(
    'pipeline',
    name,
    () => parsePipelineConfig(typeof patch === 'number' ? patch : { ...base(), ...patch }, 'p.json'),
    err(re),
  );
pipe('not an object', 5, /p\.json/);
pipe('version 3', { version: 3 }, /version/);
pipe('no steps', { steps: undefined }, /steps/);
pipe('empty steps', { steps: [] }, /steps/);
pipe('unknown method', { steps: [{ method: 'magic-prune' }] }, /steps\.0\.method|magic-prune/);
pipe('ratio 1.5', { target: { ratio: 1.5 } }, /target\.ratio/);
pipe('ratio -0.1', { target: { ratio: -0.1 } }, /target\.ratio/);
pipe("ratio '0.3' (a string)", { target: { ratio: '0.3' } }, /target\.ratio/);
pipe('unknown step param', { steps: [{ method: 'svd-llm', params: { rnk: 3 } }] }, /steps\.0\.params/);
pipe('rank 0', { steps: [{ method: 'svd-llm', params: { rank: 0 } }] }, /steps\.0\.params\.rank/);
pipe('calibration.samples 0', { calibration: { samples: 0 } }, /calibration\.samples/);
pipe('calibration.seqLen 1', { calibration: { seqLen: 1 } }, /calibration\.seqLen/);
pipe('unknown top-level key', { extra: 1 }, /extra|unrecognized/i);
add(
  'pipeline',
  'rank 100000 makes the model larger: refused at planning (was achieved -0.56)',
  () => {
    const c = parsePipelineConfig({
      ...base(),
      target: undefined,
      steps: [{ method: 'svd-llm', params: { rank: 100000 } }],
    });
    const p = planPipeline(c, model);
    if (p.problem) throw new EngineError(p.problem);
    return p;
  },
  err(/steps\.0\.params: svd-llm: rank 100000 is outside what this model allows, \[1, 32\]/),
);
add(
  'pipeline',
  'd2-moe rank 31 on 4 experts stores more than it replaces: refused (was run, negative ratio)',
  () => {
    const c = parsePipelineConfig({
      ...base(),
      target: undefined,
      steps: [{ method: 'd2-moe', params: { rank: 31 } }],
    });
    const p = planPipeline(c, model);
    if (p.problem) throw new EngineError(p.problem);
    return p;
  },
  err(/steps\.0\.params\.rank: d2-moe: rank 31 makes the model larger \(\d+ → \d+ parameters\)/),
);
add('pipeline', "name '../../x' is one safe path segment", () => safeSegment('../../x'), {
  ok: (v) => expect(v).toBe('x'),
});
add('pipeline', "name '..' never names a parent", () => safeSegment('..'), {
  ok: (v) => expect(v).toBe('pipeline'),
});
add('pipeline', 'name with separators', () => safeSegment('a/b\\c'), { ok: (v) => expect(v).toBe('a-b-c') });
add(
  'pipeline',
  'config file nested 50k deep',
  () => readJsonFile(writeFile(dir, 'deep.json', `{"a":${deep(50_000)}}`), 'pipeline config'),
  err(/deep\.json: pipeline config is not valid JSON: nested deeper than 256/),
);

// ------------------------------------------------------------------------- work state, out ----
add(
  'folders',
  '--out under /proc (recursive mkdir spun forever)',
  () => checkOutputFolder('/proc/x/y', 'outDir'),
  err(/outDir: cannot write in '\/proc\/x'/),
  2000,
);
add(
  'folders',
  '--out naming an existing file',
  () => checkOutputFolder(writeFile(dir, 'a-file', 'x'), 'outDir'),
  err(/outDir: '.*a-file' exists and is not a folder/),
);
add(
  'folders',
  '--out below an existing file',
  () => checkOutputFolder(path.join(writeFile(dir, 'b-file', 'x'), 'sub'), 'outDir'),
  err(/b-file' exists and is not a folder/),
);
add(
  'folders',
  'a writable new folder is checked and left uncreated',
  () => {
    const d = path.join(dir, 'new/out');
    checkOutputFolder(d, 'outDir');
    return fs.existsSync(path.join(dir, 'new'));
  },
  { ok: (v) => expect(v).toBe(false) },
);
add(
  'folders',
  'work folder = a user folder with files: refused, untouched',
  () => {
    const d = path.join(dir, 'user-folder');
    writeFile(d, 'thesis.tex', 'precious');
    try {
      claimWorkFolder(d);
    } finally {
      expect(fs.readFileSync(path.join(d, 'thesis.tex'), 'utf8')).toBe('precious');
    }
  },
  err(/workDir: '.*user-folder' already holds files the workbench did not create/),
);
add(
  'folders',
  'removeWorkFolder leaves a folder without the marker',
  () => {
    const d = path.join(dir, 'unmarked');
    writeFile(d, 'keep.txt', 'x');
    return removeWorkFolder(d) || fs.existsSync(path.join(d, 'keep.txt')) !== true;
  },
  { ok: (v) => expect(v).toBe(false) },
);
add(
  'folders',
  'a second live process holding the lock is refused',
  () => {
    const d = path.join(dir, 'locked');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, WORK_MARKER), '');
    fs.writeFileSync(path.join(d, '.lock'), '1'); // pid 1 is always alive
    return claimWorkFolder(d);
  },
  err(/locked: workDir: the work folder is in use by another run \(process 1\)/),
);
add(
  'folders',
  "a dead process's lock is taken over",
  () => {
    const d = path.join(dir, 'stale');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, WORK_MARKER), '');
    fs.writeFileSync(path.join(d, '.lock'), '2147483646');
    const release = claimWorkFolder(d);
    const held = fs.readFileSync(path.join(d, '.lock'), 'utf8');
    release();
    return held;
  },
  { ok: (v) => expect(v).toBe(String(process.pid)) },
);
add(
  'folders',
  'a marked work folder is deleted when done',
  () => {
    const d = path.join(dir, 'marked');
    claimWorkFolder(d)();
    return removeWorkFolder(d) && !fs.existsSync(d);
  },
  { ok: (v) => expect(v).toBe(true) },
);

// ------------------------------------------------------------------------------ client paths ----
const policy = (mode: 'browser' | 'electron' | 'cli', extra: string[] = []) => {
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  return new PathPolicy(mode, home, { modelRoots: [], datasetRoots: [path.join(dir, 'resources')] }, extra);
};
const job = (
  name: string,
  mode: 'browser' | 'electron' | 'cli',
  params: Record<string, unknown>,
  want: Outcome,
) => add('client paths', `${mode}: ${name}`, () => policy(mode).jobParams(params), want);
job(
  'outDir outside the home',
  'browser',
  { config: {}, outDir: '/tmp/elsewhere' },
  err(/params\.outDir: '\/tmp\/elsewhere' resolves to .* outside the folders this client may use/),
);
job(
  'outDir escaping with ..',
  'browser',
  { config: {}, outDir: '../../x' },
  err(/params\.outDir: '\.\.\/\.\.\/x'/),
);
job(
  'workDir outside the home (was rm -rf of a user folder)',
  'electron',
  { config: {}, outDir: 'ok', workDir: '/home/user/thesis' },
  err(/params\.workDir/),
);
job('out (tokenize/logits) outside', 'electron', { model: 'm', out: '/etc/x.json' }, err(/params\.out: /));
job(
  'calibration.text outside',
  'browser',
  { config: { calibration: { text: '/etc/passwd' } }, outDir: 'o' },
  err(/params\.config\.calibration\.text/),
);
job(
  'evaluations[0].text outside',
  'browser',
  { model: 'm', evaluations: [{ text: '/etc/shadow' }] },
  err(/params\.evaluations\[0\]\.text/),
);
job(
  'evaluations[0].tokenIds outside',
  'browser',
  { model: 'm', evaluations: [{ tokenIds: '/root/ids.json' }] },
  err(/params\.evaluations\[0\]\.tokenIds/),
);
job(
  'a data set given by path outside',
  'browser',
  { config: { calibration: { dataset: '/var/log/syslog.txt' } }, outDir: 'o' },
  err(/params\.config\.calibration\.dataset/),
);
job('baseDir outside', 'browser', { config: {}, outDir: 'o', baseDir: '/' }, err(/params\.baseDir/));
job(
  'dataDirs outside',
  'browser',
  { config: {}, outDir: 'o', dataDirs: ['/etc'] },
  err(/params\.dataDirs\[0\]/),
);
job(
  'relative outDir lands in the home',
  'browser',
  { config: {}, outDir: 'exports/a' },
  { ok: (v) => expect((v as { baseDir: string }).baseDir).toBe(path.join(dir, 'home')) },
);
job(
  'a built-in data set name passes',
  'browser',
  { config: { calibration: { dataset: 'calib' } }, outDir: 'o' },
  { ok: () => {} },
);
job(
  'electron reads are confined too (the renderer is a client; was read as given)',
  'electron',
  { config: { calibration: { text: '/etc/hostname' } }, outDir: 'o' },
  err(/params\.config\.calibration\.text: '\/etc\/hostname' resolves to .* outside/),
);
job(
  'the CLI writes where the user says',
  'cli',
  { config: {}, outDir: '/tmp/anywhere' },
  { ok: (v) => expect((v as { baseDir?: string }).baseDir).toBeUndefined() },
);
add(
  'client paths',
  'browser: a symlink in the home pointing out is followed, then refused',
  () => {
    const home = path.join(dir, 'home');
    fs.mkdirSync(home, { recursive: true });
    fs.symlinkSync('/etc', path.join(home, 'link-out'));
    return policy('browser').jobParams({ config: {}, outDir: 'link-out/x' });
  },
  err(/params\.outDir: 'link-out\/x' resolves to '\/etc\/x'/),
);
add(
  'client paths',
  'browser: an allowed root is accepted',
  () =>
    policy('browser', [path.join(dir, 'picked')]).jobParams({
      config: {},
      outDir: path.join(dir, 'picked', 'o'),
    }),
  { ok: () => {} },
);
add(
  'client paths',
  'browser: datasets.add of a .txt link to a system file',
  () => {
    const link = path.join(dir, 'home', 'innocent.txt');
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync('/etc/passwd', link);
    return policy('browser').readPath(link, 'path');
  },
  err(/path: '.*innocent\.txt' resolves to '\/etc\/passwd'/),
);
add(
  'client paths',
  'electron: datasets.add stores the real file behind a link',
  () => {
    const target = writeFile(dir, 'home/real.txt', 'x');
    const link = path.join(dir, 'home', 'alias.txt');
    fs.symlinkSync(target, link);
    return policy('electron').readPath(link, 'path');
  },
  { ok: (v) => expect(v).toBe(realPathOf(path.join(dir, 'home', 'real.txt'))) },
);

// ---------------------------------------------------------------------------- wire, shell ----
const origin =
  (o: string | undefined, host = '127.0.0.1:7321') =>
  () =>
    sameOrigin({ headers: { ...(o ? { origin: o } : {}), host } });
const isTrue = { ok: (v: unknown) => expect(v).toBe(true) };
const isFalse = { ok: (v: unknown) => expect(v).toBe(false) };
add('websocket origin', 'same scheme, host and port', origin('http://127.0.0.1:7321'), isTrue);
add(
  'websocket origin',
  'https on the same host:port (was accepted)',
  origin('https://127.0.0.1:7321'),
  isFalse,
);
add('websocket origin', 'another port', origin('http://127.0.0.1:7322'), isFalse);
add('websocket origin', 'another host', origin('http://evil.test:7321'), isFalse);
add('websocket origin', "the 'null' origin (sandboxed iframe, file page)", origin('null'), isFalse);
add('websocket origin', 'ws: scheme', origin('ws://127.0.0.1:7321'), isFalse);
add('websocket origin', 'no Origin header (not a browser)', origin(undefined), isTrue);
add(
  'websocket origin',
  'no Host header',
  () => sameOrigin({ headers: { origin: 'http://127.0.0.1:7321' } }),
  isFalse,
);
const dev = trustedUrlCheck('file:///app/renderer/index.html', 'http://localhost:5173');
const packaged = trustedUrlCheck('file:///app/renderer/index.html', undefined);
add('electron trust', 'dev origin itself', () => dev('http://localhost:5173/#/runs'), isTrue);
add(
  'electron trust',
  'dev: a host that merely starts with it (was trusted)',
  () => dev('http://localhost:5173.evil.test/'),
  isFalse,
);
add(
  'electron trust',
  'dev: a longer port that starts with it (was trusted)',
  () => dev('http://localhost:51730/'),
  isFalse,
);
add('electron trust', 'dev: https on the same host', () => dev('https://localhost:5173/'), isFalse);
add('electron trust', 'dev: not a URL', () => dev('localhost:5173'), isFalse);
add(
  'electron trust',
  'packaged: the renderer with a hash',
  () => packaged('file:///app/renderer/index.html#/x'),
  isTrue,
);
add(
  'electron trust',
  'packaged: another file',
  () => packaged('file:///app/renderer/index.html.evil'),
  isFalse,
);
add(
  'json',
  'a 50k-deep wire frame',
  () => parseJson(`{"id":1,"method":"x","params":${deep(50_000)}}`),
  err(/nested deeper than 256 levels/),
);
add(
  'json',
  'brackets inside strings do not count',
  () => parseJson(JSON.stringify({ s: '['.repeat(10_000) })),
  { ok: () => {} },
);
add(
  'store',
  'a read-only store names the file and says what to do',
  () => {
    throw storeFailure(
      Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' }),
      '/h/workbench.sqlite',
      'record to',
    );
  },
  err(/cannot record to store '\/h\/workbench\.sqlite': attempt to write a readonly database/),
);

// ------------------------------------------------------------------------- workbench format ----
const wb = (name: string, block: unknown, re: RegExp) =>
  cfg(`workbench block: ${name}`, { moe_workbench: block }, re);
wb('not an object', 'factored', /config\.json: moe_workbench/);
wb('unknown format', { format: 'zip', version: 2, layers: {} }, /config\.json: moe_workbench/);
wb('unknown version', { format: 'workbench', version: 9, layers: {} }, /config\.json: moe_workbench/);
wb(
  'layer index out of range',
  { format: 'workbench', version: 2, layers: { 7: { drop: 'ffn' } } },
  /config\.json: moe_workbench\.layers/,
);
wb(
  'negative layer index',
  { format: 'workbench', version: 2, layers: { '-1': { drop: 'ffn' } } },
  /config\.json: moe_workbench\.layers/,
);
wb(
  'unknown drop kind',
  { format: 'workbench', version: 2, layers: { 0: { drop: 'sideways' } } },
  /config\.json: moe_workbench\.layers\.0/,
);
wb(
  'view naming missing tensors',
  {
    format: 'workbench',
    version: 2,
    layers: { 0: { view: { experts: [{ gate: { kind: 'dense', W: 'nope' } }] } } },
  },
  /config\.json: moe_workbench\.layers\.0|nope/,
);
wb(
  'factored v1 with a missing factor',
  { format: 'factored', version: 1, layers: { 0: { rank: 4 } } },
  /config\.json: moe_workbench|model\.layers\.0/,
);

// ------------------------------------------------------------------------------------- CLI ----
async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'moe-bench', ...args, '--home', path.join(dir, 'cli-home')], {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  if (code === 0) return { code, stdout };
  throw Object.assign(new Error(`exit ${code}: ${stderr.trim()}`), { code });
}
const quickArgs = (...more: string[]) => [
  'compress',
  '--model',
  model,
  '--method',
  'svd-llm',
  '--calib-samples',
  '4',
  '--calib-seq-len',
  '32',
  ...more,
];
const cliCase = (name: string, args: () => string[], re: RegExp) =>
  add('cli', name, () => cli(...args()), err(re), 20_000);
cliCase(
  "--ratio '' (was read as 0)",
  () => quickArgs('--ratio', '', '--out', path.join(dir, 'o1')),
  /exit 2: .*'--ratio <r>' argument '' is invalid\. expected a number in \[0, 1\)/,
);
cliCase("--ratio ' '", () => quickArgs('--ratio', ' ', '--out', path.join(dir, 'o1')), /exit 2: .*--ratio/);
cliCase(
  '--ratio abc',
  () => quickArgs('--ratio', 'abc', '--out', path.join(dir, 'o1')),
  /exit 2: .*--ratio .*'abc'/,
);
cliCase('--ratio 1', () => quickArgs('--ratio', '1', '--out', path.join(dir, 'o1')), /exit 2: .*--ratio/);
cliCase(
  '--ratio -0.1',
  () => quickArgs('--ratio', '-0.1', '--out', path.join(dir, 'o1')),
  /exit 2: .*--ratio/,
);
cliCase(
  "--seed ''",
  () => quickArgs('--ratio', '0.2', '--seed', '', '--out', path.join(dir, 'o1')),
  /exit 2: .*--seed/,
);
cliCase(
  '--seed -1',
  () => quickArgs('--ratio', '0.2', '--seed', '-1', '--out', path.join(dir, 'o1')),
  /exit 2: .*--seed/,
);
cliCase(
  "--calib-samples ''",
  () => ['compress', '--model', model, '--method', 'svd-llm', '--ratio', '0.2', '--calib-samples', ''],
  /exit 2: .*calib-samples/,
);
cliCase(
  '--calib-samples 0',
  () => ['compress', '--model', model, '--method', 'svd-llm', '--ratio', '0.2', '--calib-samples', '0'],
  /exit 2: .*calib-samples/,
);
cliCase(
  '--calib-seq-len 1e3',
  () => ['compress', '--model', model, '--method', 'svd-llm', '--ratio', '0.2', '--calib-seq-len', '1e3'],
  /exit 2: .*calib-seq-len/,
);
cliCase(
  'unknown --method',
  () => ['compress', '--model', model, '--method', 'zap', '--ratio', '0.2'],
  /exit 2: .*unknown --method 'zap'/,
);
cliCase(
  'quick form without --model',
  () => ['compress', '--method', 'svd-llm', '--ratio', '0.2'],
  /exit 2: .*--model/,
);
cliCase(
  '--config with --method',
  () => ['compress', '--config', 'x.json', '--method', 'svd-llm'],
  /exit 2: .*cannot be combined/,
);
cliCase(
  '--config missing',
  () => ['compress', '--config', path.join(dir, 'missing.json')],
  /exit 1: .*missing\.json: cannot read pipeline config \(ENOENT\)/,
);
cliCase(
  '--config 50k deep',
  () => ['compress', '--config', writeFile(dir, 'deep-cfg.json', `{"a":${deep(50_000)}}`)],
  /exit 1: .*deep-cfg\.json: pipeline config is not valid JSON: nested deeper/,
);
cliCase(
  '--out under /proc: refused before any work (hung forever)',
  () => quickArgs('--ratio', '0.2', '--out', '/proc/x'),
  /exit 1: .*\/proc\/x: outDir: cannot write in '\/proc\/x'/,
);
cliCase(
  '--out an existing file: refused before the compression',
  () => quickArgs('--ratio', '0.2', '--out', writeFile(dir, 'out-file', 'x')),
  /exit 1: .*out-file' exists and is not a folder/,
);
cliCase(
  'inspect num_hidden_layers 1e9 (heap abort after 52 s)',
  () => ['inspect', modelWith('cli-layers', { num_hidden_layers: 1e9 })],
  /exit 1: .*config\.json: num_hidden_layers/,
);
cliCase(
  'inspect num_local_experts 1e9',
  () => ['inspect', modelWith('cli-experts', { num_local_experts: 1e9 })],
  /exit 1: .*config\.json: num_local_experts/,
);
cliCase(
  'inspect a missing folder',
  () => ['inspect', path.join(dir, 'no-such-model')],
  /exit 1: .*no-such-model/,
);
cliCase(
  "eval ppl --seq-len ''",
  () => ['eval', 'ppl', '--model', model, '--text', 'x', '--seq-len', ''],
  /exit 2: .*seq-len/,
);
cliCase(
  'eval ppl --max-windows 0',
  () => ['eval', 'ppl', '--model', model, '--text', 'x', '--max-windows', '0'],
  /exit 2: .*max-windows/,
);
cliCase(
  'eval ppl --text missing',
  () => ['eval', 'ppl', '--model', model, '--text', path.join(dir, 'nope.txt')],
  /exit 1: .*nope\.txt/,
);

// --------------------------------------------------------------------------------- the table ----
describe('malformed inputs: a clear error, in bounded time, for every row', () => {
  it('has at least 100 rows', () => expect(cases.length).toBeGreaterThanOrEqual(100));
  for (const c of cases) {
    it(`${c.group}: ${c.name}`, async () => {
      tally.cases++;
      const t0 = performance.now();
      let value: unknown;
      let thrown: unknown = null;
      try {
        value = await c.run();
      } catch (e) {
        thrown = e;
      }
      const ms = performance.now() - t0;
      if (ms > (c.ms ?? 3000)) tally.hangs++;
      expect(ms, 'time bound').toBeLessThan(c.ms ?? 3000);
      if ('error' in c.want) {
        if (thrown === null) tally.silent++;
        else if (crashLike(thrown)) tally.crashes++;
        expect(thrown, 'expected an error, got a result').not.toBeNull();
        expect(crashLike(thrown), String(thrown)).toBe(false);
        expect((thrown as Error).message).toMatch(c.want.error);
        tally.clearErrors++;
      } else {
        if (thrown) throw thrown;
        c.want.ok(value);
        tally.accepted++;
      }
    });
  }
});
