// A model ready to stream: parsed spec + an open checkpoint whose tensor names and shapes have been
// checked against the spec up front (so a run fails before any compute, naming tensor and file).
import fs from 'node:fs';
import path from 'node:path';
import { EngineError } from '../errors';
import { Checkpoint, INDEX_FILE, SINGLE_FILE } from '../io/checkpoint';
import { attachGptq, type GptqLayout } from './gptq-checkpoint';
import { loadModelSpec } from './registry';
import { globalTensors, layerTensors } from './tensor-layout';
import type { ModelSpec } from './types';
import { absentTensorNames, parseStoredLayout, type StoredLayout } from './workbench-format';

export { type ExpectedTensor, globalTensors, layerTensors } from './tensor-layout';

export interface LoadedModel {
  dir: string;
  configFile: string;
  spec: ModelSpec;
  checkpoint: Checkpoint;
  /**
   * Workbench-format checkpoint (docs/workbench-format.md): the layers a compression changed (a view
   * of named tensors, or a dropped sub-layer / block). Absent for a plain HF checkpoint.
   */
  stored?: StoredLayout;
  /**
   * GPTQ checkpoint (config.json quantization_config, model/gptq-checkpoint.ts): the linears stored
   * packed; their `.weight` reads as the exact dequantization. Absent when nothing is quantized.
   */
  gptq?: GptqLayout;
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
  const { spec, file, raw } = loadModelSpec(root);
  const checkpoint = Checkpoint.open(root);
  let stored: StoredLayout | null;
  let gptq: GptqLayout | null;
  try {
    gptq = attachGptq(checkpoint, raw, file);
    stored = parseStoredLayout(raw, spec, (n) => (checkpoint.has(n) ? checkpoint.info(n).shape : null), file);
    checkTensors(checkpoint, spec, file, stored ? absentTensorNames(spec, stored) : undefined);
  } catch (e) {
    checkpoint.close();
    throw e;
  }
  return {
    dir: root,
    configFile: file,
    spec,
    checkpoint,
    ...(stored ? { stored } : {}),
    ...(gptq ? { gptq } : {}),
  };
}
