// Every compression method by id: its declaration (params, family, knob, accounting) — tfjs-free, so
// the main process validates and plans with it — and, through `load()`, the engine implementation.
// A new method is its two files plus one line here.
import { EngineError } from '../errors';
import { asvdDeclaration } from './asvd.params';
import { blockDropDeclaration } from './block-drop.params';
import { d2MoeDeclaration } from './d2-moe.params';
import { expertDropDeclaration } from './expert-drop.params';
import { expertMergeDeclaration } from './expert-merge.params';
import { expertPruneDeclaration } from './expert-prune.params';
import { gptqDeclaration } from './gptq.params';
import { layerDropDeclaration } from './layer-drop.params';
import { magnitudeDeclaration } from './magnitude.params';
import type { AnyMethodDeclaration } from './method';
import { moeSvdDeclaration } from './moe-svd.params';
import { rtnDeclaration } from './rtn.params';
import { sparseGptDeclaration } from './sparsegpt.params';
import { svdDeclaration } from './svd.params';
import { svdLlmDeclaration } from './svd-llm.params';
import { wandaDeclaration } from './wanda.params';

export const METHODS: ReadonlyMap<string, AnyMethodDeclaration> = new Map(
  [
    svdDeclaration,
    asvdDeclaration,
    svdLlmDeclaration,
    moeSvdDeclaration,
    d2MoeDeclaration,
    expertPruneDeclaration,
    expertDropDeclaration,
    expertMergeDeclaration,
    layerDropDeclaration,
    blockDropDeclaration,
    magnitudeDeclaration,
    wandaDeclaration,
    sparseGptDeclaration,
    rtnDeclaration,
    gptqDeclaration,
  ].map((d) => [d.id, d as AnyMethodDeclaration]),
);

export const METHOD_IDS: readonly string[] = [...METHODS.keys()];

export function getMethod(id: string, field = 'steps[].method'): AnyMethodDeclaration {
  const m = METHODS.get(id);
  if (!m)
    throw new EngineError(`unknown method '${id}'; expected one of ${METHOD_IDS.join(', ')}`, { field });
  return m;
}
