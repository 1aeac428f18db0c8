// Where export reads a stored layer's tensors from: the source checkpoint (a workbench source's
// compressed layers) or a run's work file (a finished layer the override store persisted,
// pipeline/work-files.ts, in the same manifest + named tensors form). Reading a persisted layer
// straight from its file, one tensor per write, is what keeps an export's memory at one tensor
// instead of every compressed layer (issue 18).
import path from 'node:path';
import { SafetensorsFile } from '../io/safetensors';
import { tf } from '../tensor/backend';

/** What the 'stored' export paths call on model.checkpoint. */
export interface TensorReader {
  info(name: string): { shape: readonly number[] };
  readF32(name: string): Float32Array;
  readTensor(name: string): tf.Tensor;
}

/**
 * Readers of work files that keep at most one file open: a file is opened when one of its tensors
 * is first asked for and closed when another file's is (the writer asks layer by layer, so each
 * file is opened about once per pass). `close` after the export: no descriptor outlives it.
 */
export class WorkFileReaders {
  #open: SafetensorsFile | null = null;
  /** files opened so far */
  opens = 0;

  reader(file: string): TensorReader {
    const abs = path.resolve(file);
    const f = () => this.#file(abs);
    return {
      info: (n) => f().info(n),
      readF32: (n) => f().readF32(n),
      readTensor: (n) => tf.tensor(f().readF32(n), f().info(n).shape, 'float32'),
    };
  }

  close(): void {
    this.#open?.close();
    this.#open = null;
  }

  #file(file: string): SafetensorsFile {
    if (this.#open?.path === file) return this.#open;
    this.close();
    this.#open = SafetensorsFile.open(file);
    this.opens++;
    return this.#open;
  }
}
