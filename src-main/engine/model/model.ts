// A model ready to stream: parsed spec + an open checkpoint whose tensor names and shapes have been
// checked against the spec up front (so a run fails before any compute, naming tensor and file).
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { type FactoredBlock, replacedTensorNames } from './factored-format';
import { loadFactoredBlock } from './factored-model';
import { Checkpoint, INDEX_FILE, SINGLE_FILE } from '../io/checkpoint';
import { loadModelSpec } from './registry';
import type { ModelSpec } from './types';

export interface LoadedModel {
  dir: string;
  configFile: string;
  spec: ModelSpec;
  checkpoint: Checkpoint;
  /** Factored checkpoint (docs/factored-format.md): layers whose routed experts are stored as factors. */
  factored?: FactoredBlock;
}

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

function mlpTensors(
  prefix: string,
  proj: { gate: string; up: string; down: string },
  h: number,
  inter: number,
): ExpectedTensor[] {
  return [
    { name: `${prefix}.${proj.gate}.weight`, shape: [inter, h] },
    { name: `${prefix}.${proj.up}.weight`, shape: [inter, h] },
    { name: `${prefix}.${proj.down}.weight`, shape: [h, inter] },
  ];
}

/** Every tensor one decoder layer needs, with its HF shape. */
export function layerTensors(spec: ModelSpec, l: number): ExpectedTensor[] {
  const n = spec.names;
  const { heads: H, kvHeads: KV, headDim: D } = spec.attention;
  const h = spec.hidden;
  const p = `${n.layer(l)}.self_attn`;
  const out: ExpectedTensor[] = [
    { name: `${n.layer(l)}.input_layernorm.weight`, shape: [h] },
    { name: `${n.layer(l)}.post_attention_layernorm.weight`, shape: [h] },
    { name: `${p}.q_proj.weight`, shape: [H * D, h] },
    { name: `${p}.k_proj.weight`, shape: [KV * D, h] },
    { name: `${p}.v_proj.weight`, shape: [KV * D, h] },
    { name: `${p}.o_proj.weight`, shape: [h, H * D] },
  ];
  if (spec.norm.kind === 'layer') {
    out.push({ name: `${n.layer(l)}.input_layernorm.bias`, shape: [h] });
    out.push({ name: `${n.layer(l)}.post_attention_layernorm.bias`, shape: [h] });
  }
  if (spec.attention.qkvBias) {
    out.push(
      { name: `${p}.q_proj.bias`, shape: [H * D] },
      { name: `${p}.k_proj.bias`, shape: [KV * D] },
      { name: `${p}.v_proj.bias`, shape: [KV * D] },
    );
  }
  if (spec.attention.oBias) out.push({ name: `${p}.o_proj.bias`, shape: [h] });
  if (spec.attention.qkNorm === 'full') {
    out.push({ name: `${p}.q_norm.weight`, shape: [H * D] }, { name: `${p}.k_norm.weight`, shape: [KV * D] });
  } else if (spec.attention.qkNorm === 'per-head') {
    out.push({ name: `${p}.q_norm.weight`, shape: [D] }, { name: `${p}.k_norm.weight`, shape: [D] });
  }
  if (spec.layerKinds[l] === 'dense') {
    out.push(
      ...mlpTensors(
        n.denseMlp(l),
        { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' },
        h,
        spec.intermediate,
      ),
    );
    return out;
  }
  const m = n.moe(l);
  out.push({ name: `${m}.${n.router}.weight`, shape: [spec.experts, h] });
  for (let e = 0; e < spec.experts; e++)
    out.push(...mlpTensors(`${m}.experts.${e}`, n.expertProj, h, spec.moeIntermediate));
  if (spec.sharedIntermediate > 0 && n.sharedExpert) {
    out.push(
      ...mlpTensors(
        `${m}.${n.sharedExpert}`,
        { gate: 'gate_proj', up: 'up_proj', down: 'down_proj' },
        h,
        spec.sharedIntermediate,
      ),
    );
    if (spec.sharedGate && n.sharedExpertGate)
      out.push({ name: `${m}.${n.sharedExpertGate}.weight`, shape: [1, h] });
  }
  return out;
}

export function globalTensors(spec: ModelSpec): ExpectedTensor[] {
  const n = spec.names;
  const out: ExpectedTensor[] = [
    { name: n.embed, shape: [spec.vocab, spec.hidden] },
    { name: `${n.finalNorm}.weight`, shape: [spec.hidden] },
  ];
  if (spec.norm.kind === 'layer') out.push({ name: `${n.finalNorm}.bias`, shape: [spec.hidden] });
  if (!spec.tieEmbeddings) out.push({ name: `${n.lmHead}.weight`, shape: [spec.vocab, spec.hidden] });
  if (spec.lmHeadBias) out.push({ name: `${n.lmHead}.bias`, shape: [spec.vocab] });
  return out;
}

export function weightsFile(dir: string): string {
  const index = path.join(dir, INDEX_FILE);
  return fs.existsSync(index) ? index : path.join(dir, SINGLE_FILE);
}

export function checkTensors(
  ck: Checkpoint,
  spec: ModelSpec,
  configFile: string,
  skip?: ReadonlySet<string>,
): void {
  const all = [...globalTensors(spec)];
  for (let l = 0; l < spec.layers; l++) all.push(...layerTensors(spec, l));
  for (const t of all) {
    if (skip?.has(t.name)) continue;
    if (!ck.has(t.name)) {
      throw new EngineError(`tensor '${t.name}' required by ${spec.modelType} config is missing`, {
        file: weightsFile(ck.dir),
        field: t.name,
        hint: `check ${configFile} matches the weights (layers, experts, biases, tie_word_embeddings)`,
      });
    }
    const info = ck.info(t.name);
    if (info.shape.length !== t.shape.length || info.shape.some((d, i) => d !== t.shape[i])) {
      throw new EngineError(`tensor '${t.name}' has shape [${info.shape}], config implies [${t.shape}]`, {
        file: info.file,
        field: t.name,
        hint: `check ${configFile}`,
      });
    }
  }
}

export function openModel(dir: string): LoadedModel {
  const root = path.resolve(dir);
  const { spec, file } = loadModelSpec(root);
  const checkpoint = Checkpoint.open(root);
  let factored: FactoredBlock | null;
  try {
    factored = loadFactoredBlock(spec, checkpoint, file);
    checkTensors(checkpoint, spec, file, factored ? replacedTensorNames(spec, factored) : undefined);
  } catch (e) {
    checkpoint.close();
    throw e;
  }
  return { dir: root, configFile: file, spec, checkpoint, ...(factored ? { factored } : {}) };
}
