// Inverse of hf-export: read an HF tiny-model checkpoint (any dtype, upcast to f32) back into the
// trainer's parameter layout, so the saved bf16 weights can be evaluated with the training forward.
import { transpose2d } from '../../src-main/engine/io/checkpoint';
import { SafetensorsFile } from '../../src-main/engine/io/safetensors';
import { headDim, isMoeLayer, type TinyArch } from './tiny-arch';

export function importHfParams(file: string, a: TinyArch): Map<string, Float32Array> {
  const f = SafetensorsFile.open(file);
  try {
    const h = a.hidden;
    const d = headDim(a);
    const out = new Map<string, Float32Array>();
    const get = (n: string): Float32Array => f.readF32(n);
    /** HF [out, in] → [in, out] */
    const lin = (n: string, outDim: number, inDim: number): Float32Array =>
      transpose2d(get(n), outDim, inDim);
    out.set('embed', get('model.embed_tokens.weight'));
    for (let l = 0; l < a.layers; l++) {
      const p = `l${l}.`;
      const m = `model.layers.${l}.`;
      out.set(`${p}ln1`, get(`${m}input_layernorm.weight`));
      out.set(`${p}wq`, lin(`${m}self_attn.q_proj.weight`, a.heads * d, h));
      out.set(`${p}wk`, lin(`${m}self_attn.k_proj.weight`, a.kvHeads * d, h));
      out.set(`${p}wv`, lin(`${m}self_attn.v_proj.weight`, a.kvHeads * d, h));
      out.set(`${p}wo`, lin(`${m}self_attn.o_proj.weight`, h, a.heads * d));
      out.set(`${p}ln2`, get(`${m}post_attention_layernorm.weight`));
      if (!isMoeLayer(a, l)) {
        const I = a.denseIntermediate;
        out.set(`${p}dg`, lin(`${m}mlp.gate_proj.weight`, I, h));
        out.set(`${p}du`, lin(`${m}mlp.up_proj.weight`, I, h));
        out.set(`${p}dd`, lin(`${m}mlp.down_proj.weight`, h, I));
        continue;
      }
      const E = a.experts;
      const I = a.moeIntermediate;
      const mix = a.family === 'mixtral';
      const block = mix ? `${m}block_sparse_moe.` : `${m}mlp.`;
      const [gn, un, dn] = mix ? ['w1', 'w3', 'w2'] : ['gate_proj', 'up_proj', 'down_proj'];
      out.set(`${p}router`, lin(`${block}gate.weight`, E, h));
      const w1 = new Float32Array(h * E * I);
      const w3 = new Float32Array(h * E * I);
      const w2 = new Float32Array(E * I * h);
      for (let e = 0; e < E; e++) {
        const x = `${block}experts.${e}.`;
        const g = lin(`${x}${gn}.weight`, I, h); // [h, I]
        const u = lin(`${x}${un}.weight`, I, h);
        for (let r = 0; r < h; r++) {
          w1.set(g.subarray(r * I, (r + 1) * I), r * E * I + e * I);
          w3.set(u.subarray(r * I, (r + 1) * I), r * E * I + e * I);
        }
        w2.set(lin(`${x}${dn}.weight`, h, I), e * I * h); // [I, h] rows of the stacked down matrix
      }
      out.set(`${p}w1`, w1);
      out.set(`${p}w3`, w3);
      out.set(`${p}w2`, w2);
      if (a.sharedExperts > 0) {
        const SI = a.sharedExperts * I;
        out.set(`${p}sg`, lin(`${block}shared_experts.gate_proj.weight`, SI, h));
        out.set(`${p}su`, lin(`${block}shared_experts.up_proj.weight`, SI, h));
        out.set(`${p}sd`, lin(`${block}shared_experts.down_proj.weight`, h, SI));
      }
    }
    out.set('norm', get('model.norm.weight'));
    out.set('lm_head', lin('lm_head.weight', a.vocab, h));
    return out;
  } finally {
    f.close();
  }
}
