// Architecture description of the embedded tiny models, shared by the trainer, exporter and card.
export type TinyFamily = 'mixtral' | 'deepseek';

export interface TinyArch {
  family: TinyFamily;
  vocab: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ropeTheta: number;
  rmsEps: number;
  maxPositions: number;
  experts: number;
  topK: number;
  /** per routed expert */
  moeIntermediate: number;
  /** Mixtral renormalises the top-k weights; DeepSeek v1 (norm_topk_prob=false) does not. */
  normTopK: boolean;
  /** DeepSeek: unconditional shared experts (intermediate = moeIntermediate × sharedExperts). */
  sharedExperts: number;
  /** DeepSeek: dense SwiGLU layers before the first MoE layer, and their intermediate size. */
  firstKDense: number;
  denseIntermediate: number;
  bosId: number;
  eosId: number;
  padId: number;
}

export function headDim(a: TinyArch): number {
  return a.hidden / a.heads;
}

export function isMoeLayer(a: TinyArch, l: number): boolean {
  return l >= a.firstKDense;
}
