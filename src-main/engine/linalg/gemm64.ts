// f64 GEMM: C += α·op(A)·op(B) on row-major blocks addressed by (offset, leading dimension), so the
// blocked factorisations can update sub-blocks of one array in place.
// GotoBLAS structure: op(B) is packed in KC×NC panels of NR-wide column strips, op(A) in MC×KC blocks
// of MR-tall row strips, straight into the memory of a WebAssembly SIMD macro-kernel
// (gemm64-kernel.wat) that multiplies one packed block by one packed panel in 4×4 register tiles
// (~11 GFLOP/s on one core here, against ~2.7 for the same loops in scalar JS); the caller's C is then
// updated from the kernel's block. Packing also turns every transpose into a copy, so the kernel never
// sees a stride.
import { EngineError } from '../errors';
import { GEMM64_KERNEL_WASM } from './gemm64-kernel';
import { kernelModule } from './wasm-kernel';

const KERNEL_FILE = 'engine/linalg/gemm64-kernel.wat';

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
/** rows of op(A) per packed block (MC·KC·8 B = 384 KiB, an L2-sized block) */
const MC = 192;
/** columns of op(B) per packed panel (KC·NC·8 B = 2 MiB at most); (KC, MC, NC) from 128…384, 48…192 and
 * 1024…2048 measured within 8 % of each other at 1024³ */
const NC = 1024;

interface Kernel {
  macro(mc: number, nc: number, kc: number, ap: number, bp: number, cb: number): void;
  /** packed op(A) block, MC×KC */
  packA: Float64Array;
  /** packed op(B) panel, KC×NC */
  packB: Float64Array;
  /** the kernel's product block, MC×NC (row-major, ld = the padded panel width) */
  block: Float64Array;
  ap: number;
  bp: number;
  cb: number;
}

let kernel: Kernel | null = null;

// one instance per thread, made on first use; its memory is fixed (4 MiB), so the views stay valid
function loadKernel(): Kernel {
  if (kernel) return kernel;
  const instance = new WebAssembly.Instance(kernelModule(GEMM64_KERNEL_WASM, KERNEL_FILE));
  const memory = (instance.exports as { memory: WebAssembly.Memory }).memory;
  const ap = 0;
  const bp = ap + MC * KC * 8;
  const cb = bp + KC * NC * 8;
  if (memory.buffer.byteLength < cb + MC * NC * 8)
    throw new EngineError(`kernel memory is ${memory.buffer.byteLength} bytes, too small for its blocks`, {
      file: KERNEL_FILE,
      field: 'memory',
    });
  kernel = {
    macro: (instance.exports as { macro: Kernel['macro'] }).macro,
    packA: new Float64Array(memory.buffer, ap, MC * KC),
    packB: new Float64Array(memory.buffer, bp, KC * NC),
    block: new Float64Array(memory.buffer, cb, MC * NC),
    ap,
    bp,
    cb,
  };
  return kernel;
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
  const K = loadKernel();
  const Ap = K.packA;
  const Bp = K.packB;
  const T = K.block;
  const C = c.data;
  const ldc = c.ld;
  for (let j0 = 0; j0 < n; j0 += NC) {
    const nc = Math.min(NC, n - j0);
    const ncp = roundUp(nc, NR);
    for (let p0 = 0; p0 < k; p0 += KC) {
      const kc = Math.min(KC, k - p0);
      packPanelB(b, p0, kc, j0, nc, Bp);
      for (let i0 = 0; i0 < m; i0 += MC) {
        const mc = Math.min(MC, m - i0);
        packBlockA(a, i0, mc, p0, kc, Ap);
        K.macro(roundUp(mc, MR), ncp, kc, K.ap, K.bp, K.cb);
        let row = c.offset + i0 * ldc + j0;
        for (let i = 0, t = 0; i < mc; i++, row += ldc, t += ncp)
          for (let j = 0; j < nc; j++) C[row + j] += alpha * T[t + j]!;
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
