// The Fisher of every compressed layer, written by the backward sweep (top layer first) and read back
// one layer at a time when that layer is compressed: one raw f32 file per expert matrix plus a JSON
// index per layer and a `complete` marker, in a folder that survives a resume when the runner gives
// the step one (StepContext.run.dir), else in a temp folder removed when the step is done.
import fs from 'node:fs';
import path from 'node:path';
import { FISHER_PROJECTIONS, type LayerFisher, type MatrixFisher } from '../../grad/fisher';

interface LayerIndex {
  experts: ({ shape: number[] } | null)[][] | null[];
}

const COMPLETE = 'complete.json';

export class FisherStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  /** a store whose backward pass finished (a resumed run reuses it), or null */
  static openComplete(dir: string): FisherStore | null {
    return fs.existsSync(path.join(dir, COMPLETE)) ? new FisherStore(dir) : null;
  }

  private file(l: number, e: number, p: string): string {
    return path.join(this.dir, `layer-${l}-expert-${e}-${p}.f32`);
  }

  write(l: number, f: LayerFisher): void {
    const index = f.map((ef, e) =>
      ef
        ? FISHER_PROJECTIONS.map((p) => {
            const m = ef[p];
            fs.writeFileSync(
              this.file(l, e, p),
              new Uint8Array(m.data.buffer, m.data.byteOffset, m.data.byteLength),
            );
            return { shape: m.shape };
          })
        : null,
    );
    fs.writeFileSync(path.join(this.dir, `layer-${l}.json`), JSON.stringify({ experts: index }));
  }

  markComplete(info: Record<string, unknown>): void {
    fs.writeFileSync(path.join(this.dir, COMPLETE), JSON.stringify(info));
  }

  info(): Record<string, unknown> {
    const f = path.join(this.dir, COMPLETE);
    return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown>) : {};
  }

  has(l: number): boolean {
    return fs.existsSync(path.join(this.dir, `layer-${l}.json`));
  }

  read(l: number): LayerFisher {
    const idx = JSON.parse(fs.readFileSync(path.join(this.dir, `layer-${l}.json`), 'utf8')) as LayerIndex;
    return idx.experts.map((ex, e) => {
      if (!ex) return null;
      const out = {} as Record<(typeof FISHER_PROJECTIONS)[number], MatrixFisher>;
      FISHER_PROJECTIONS.forEach((p, i) => {
        const shape = (ex as { shape: number[] }[])[i]!.shape;
        const buf = fs.readFileSync(this.file(l, e, p));
        const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
        new Uint8Array(data.buffer).set(buf);
        out[p] = { shape, data };
      });
      return out;
    });
  }

  delete(l: number): void {
    for (const f of fs.readdirSync(this.dir))
      if (f === `layer-${l}.json` || f.startsWith(`layer-${l}-`))
        fs.rmSync(path.join(this.dir, f), { force: true });
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
