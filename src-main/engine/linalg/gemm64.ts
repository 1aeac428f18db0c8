// f64 GEMM in plain JS: C += α·op(A)·op(B) on row-major blocks addressed by (offset, leading
// dimension), so the blocked factorisations can update sub-blocks of one array in place.
// GotoBLAS structure: op(B) is packed in KC×NC panels of NR-wide column strips, op(A) in MC×KC blocks
// of MR-tall row strips, and a 4×4 register-blocked micro-kernel streams both packed buffers. In V8 the
// sixteen accumulators live in locals (registers or stack slots next to each other), which is what
// lifts this from ~0.5–1 GFLOP/s (the i-k-j loop of `matmul64`) to ~3–4 GFLOP/s on one core. Packing
// also turns every transpose into a copy, so the kernel never sees a stride.

/** one operand of a product: element (i, j) of op(X) is data[offset + i·ld + j], or [offset + j·ld + i] when trans */
export interface GemmOperand {
  data: Float64Array;
  offset: number;
  ld: number;
  trans?: boolean;
}

/** the updated block: element (i, j) is data[offset + i·ld + j] */
export interface GemmTarget {
  data: Float64Array;
  offset: number;
  ld: number;
}

const MR = 4;
const NR = 4;
/** depth of one packed panel: 256 doubles × (4 + 4) rows stay in L1 while the kernel runs */
const KC = 256;
/** rows of op(A) per packed block (MC·KC·8 B = 192 KiB, an L2-sized block) */
const MC = 96;
/** columns of op(B) per packed panel (KC·NC·8 B = 4 MiB at most, an L3-sized panel) */
const NC = 2048;

// packing buffers are reused across calls (the engine is single-threaded per process)
let packA = new Float64Array(MC * KC);
let packB = new Float64Array(KC * NC);
const tile = new Float64Array(MR * NR);

function ensureCapacity(aLen: number, bLen: number): void {
  if (packA.length < aLen) packA = new Float64Array(aLen);
  if (packB.length < bLen) packB = new Float64Array(bLen);
}

/** C[m×n] += α · op(A)[m×k] · op(B)[k×n] */
export function gemm64(
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: GemmOperand,
  b: GemmOperand,
  c: GemmTarget,
): void {
  if (m <= 0 || n <= 0 || k <= 0 || alpha === 0) return;
  ensureCapacity(MC * KC, KC * Math.min(NC, roundUp(n, NR)));
  const Ap = packA;
  const Bp = packB;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packPanelB(b, p0, kc, j0, nc, Bp);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packBlockA(a, i0, mc, p0, kc, Ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          const bp = (jr / NR) * kc * NR;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            kernel4x4(kc, Ap, (ir / MR) * kc * MR, Bp, bp);
            const C = c.data;
            const ldc = c.ld;
            let row = c.offset + (i0 + ir) * ldc + j0 + jr;
            for (let i = 0; i < mr; i++, row += ldc)
              for (let j = 0; j < nr; j++) C[row + j] += alpha * tile[i * NR + j]!;
          }
        }
      }
    }
  }
}

function roundUp(v: number, q: number): number {
  return Math.ceil(v / q) * q;
}

// Ap[s·kc·MR + p·MR + r] = op(A)[i0 + s·MR + r, p0 + p], zero past the last row
function packBlockA(a: GemmOperand, i0: number, mc: number, p0: number, kc: number, Ap: Float64Array): void {
  const A = a.data;
  const lda = a.ld;
  let o = 0;
  for (let s = 0; s < mc; s += MR) {
    const rows = Math.min(MR, mc - s);
    if (a.trans) {
      // op(A)[i, p] = A[p, i]: a row of A holds MR consecutive entries of one packed column
      for (let p = 0; p < kc; p++) {
        const src = a.offset + (p0 + p) * lda + i0 + s;
        for (let r = 0; r < MR; r++) Ap[o++] = r < rows ? A[src + r]! : 0;
      }
    } else {
      for (let r = 0; r < MR; r++) {
        const dst = o + r;
        if (r < rows) {
          const src = a.offset + (i0 + s + r) * lda + p0;
          for (let p = 0; p < kc; p++) Ap[dst + p * MR] = A[src + p]!;
        } else {
          for (let p = 0; p < kc; p++) Ap[dst + p * MR] = 0;
        }
      }
      o += kc * MR;
    }
  }
}

// Bp[s·kc·NR + p·NR + c] = op(B)[p0 + p, j0 + s·NR + c], zero past the last column
function packPanelB(b: GemmOperand, p0: number, kc: number, j0: number, nc: number, Bp: Float64Array): void {
  const B = b.data;
  const ldb = b.ld;
  let o = 0;
  for (let s = 0; s < nc; s += NR) {
    const cols = Math.min(NR, nc - s);
    if (b.trans) {
      // op(B)[p, j] = B[j, p]: each packed column is a contiguous row of B
      for (let c = 0; c < NR; c++) {
        const dst = o + c;
        if (c < cols) {
          const src = b.offset + (j0 + s + c) * ldb + p0;
          for (let p = 0; p < kc; p++) Bp[dst + p * NR] = B[src + p]!;
        } else {
          for (let p = 0; p < kc; p++) Bp[dst + p * NR] = 0;
        }
      }
      o += kc * NR;
    } else {
      for (let p = 0; p < kc; p++) {
        const src = b.offset + (p0 + p) * ldb + j0 + s;
        for (let c = 0; c < NR; c++) Bp[o++] = c < cols ? B[src + c]! : 0;
      }
    }
  }
}

// tile = Ap-strip · Bp-strip (MR×kc times kc×NR), written whole; the caller scales and clips it
function kernel4x4(kc: number, Ap: Float64Array, ap: number, Bp: Float64Array, bp: number): void {
  let c00 = 0;
  let c01 = 0;
  let c02 = 0;
  let c03 = 0;
  let c10 = 0;
  let c11 = 0;
  let c12 = 0;
  let c13 = 0;
  let c20 = 0;
  let c21 = 0;
  let c22 = 0;
  let c23 = 0;
  let c30 = 0;
  let c31 = 0;
  let c32 = 0;
  let c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = Ap[ap]!;
    const a1 = Ap[ap + 1]!;
    const a2 = Ap[ap + 2]!;
    const a3 = Ap[ap + 3]!;
    const b0 = Bp[bp]!;
    const b1 = Bp[bp + 1]!;
    const b2 = Bp[bp + 2]!;
    const b3 = Bp[bp + 3]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ap += MR;
    bp += NR;
  }
  tile[0] = c00;
  tile[1] = c01;
  tile[2] = c02;
  tile[3] = c03;
  tile[4] = c10;
  tile[5] = c11;
  tile[6] = c12;
  tile[7] = c13;
  tile[8] = c20;
  tile[9] = c21;
  tile[10] = c22;
  tile[11] = c23;
  tile[12] = c30;
  tile[13] = c31;
  tile[14] = c32;
  tile[15] = c33;
}
