// The tensors an architecture's checkpoint must hold, with their HF shapes: one table per decoder
// layer and one for the global tensors, read by the loader's validator, the planner's exact
// accounting and the memory pre-flight. No tfjs import: the main process plans from shapes alone.
import type { ModelSpec } from './types';

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

