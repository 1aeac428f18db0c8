// Mean over calibration tokens of cos(a_t, b_t) between two [rows, h] hidden-state blocks (METHODS
// §4.4, §4.5), accumulated in f64 on the host. cos = a·b / (max(‖a‖, ε)·max(‖b‖, ε)), ε = 1e-8
// (torch.nn.functional.cosine_similarity), so an all-zero row counts as 0.
const EPS = 1e-8;

export class TokenCosineMean {
  private sum = 0;
  private n = 0;

  add(a: ArrayLike<number>, b: ArrayLike<number>, h: number): void {
    if (a.length !== b.length || a.length % h !== 0)
      throw new RangeError(`cosine of ${a.length} and ${b.length} values in rows of ${h}`);
    for (let o = 0; o < a.length; o += h) {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let j = 0; j < h; j++) {
        const x = a[o + j]!;
        const y = b[o + j]!;
        ab += x * y;
        aa += x * x;
        bb += y * y;
      }
      this.sum += ab / (Math.max(Math.sqrt(aa), EPS) * Math.max(Math.sqrt(bb), EPS));
      this.n++;
    }
  }

  get tokens(): number {
    return this.n;
  }

  mean(): number {
    return this.n > 0 ? this.sum / this.n : 0;
  }
}
