// How a config names a stored model: a built-in by its name (as the README and the example
// pipelines do), a user folder by its path; and which stored model a config's `model` names.
import type { ModelRecord } from '@contract';

export const modelRef = (m: ModelRecord): string => (m.builtin ? m.name : m.path);

export const modelNamed = (models: readonly ModelRecord[], ref: string): ModelRecord | undefined =>
  models.find((m) => modelRef(m) === ref) ??
  models.find((m) => m.path === ref || (m.builtin && m.name === ref));
