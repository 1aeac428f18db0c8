;; The memory-bound inner loops of lanczos.ts in WebAssembly SIMD (f64x2): the symmetric mat-vec from
;; A's lower triangle and the Gram–Schmidt pass against the stored Lanczos vectors. Compiled by
;; scripts/build-wasm-kernels.ts into lanczos-kernel.ts (base64). All addresses are byte offsets into
;; the module's memory, which the caller grows to hold A, the vectors and the work vectors.
(module
  (memory (export "memory") 1)

  ;; out = A v for symmetric A (n×n, row-major at a) read from its lower triangle (j ≤ i) only:
  ;; row i adds A[i, :i]·v[:i] + A[i, i]·v[i] to out[i] and A[i, :i]·v[i] to out[:i]. out is overwritten.
  (func (export "symvLower") (param $n i32) (param $a i32) (param $v i32) (param $out i32)
    (local $i i32) (local $j i32) (local $row i32) (local $vi f64) (local $vis v128) (local $s v128)
    (local $x v128) (local $tail f64) (local $o i32)
    (local.set $j (i32.const 0))
    (block $zdone (loop $zero
      (br_if $zdone (i32.ge_u (local.get $j) (local.get $n)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))) (f64.const 0))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $zero)))
    (local.set $i (i32.const 0))
    (block $idone (loop $irow
      (br_if $idone (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $row (i32.add (local.get $a) (i32.shl (i32.mul (local.get $i) (local.get $n)) (i32.const 3))))
      (local.set $vi (f64.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 3)))))
      (local.set $vis (f64x2.splat (local.get $vi)))
      (local.set $s (v128.const i64x2 0 0))
      (local.set $tail (f64.const 0))
      (local.set $j (i32.const 0))
      (block $jdone (loop $jpair
        (br_if $jdone (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $i)))
        (local.set $x (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))))
        (local.set $s (f64x2.add (local.get $s)
          (f64x2.mul (local.get $x) (v128.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3)))))))
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))))
        (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.mul (local.get $x) (local.get $vis))))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $jpair)))
      ;; odd i: one column left below the diagonal
      (if (i32.lt_u (local.get $j) (local.get $i))
        (then
          (local.set $tail (f64.mul
            (f64.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3))))
            (f64.load (i32.add (local.get $v) (i32.shl (local.get $j) (i32.const 3))))))
          (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))))
          (f64.store (local.get $o) (f64.add (f64.load (local.get $o))
            (f64.mul (f64.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 3)))) (local.get $vi))))))
      (local.set $o (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))))
      (f64.store (local.get $o)
        (f64.add (f64.load (local.get $o))
          (f64.add
            (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s)))
            (f64.add (local.get $tail)
              (f64.mul (f64.load (i32.add (local.get $row) (i32.shl (local.get $i) (i32.const 3)))) (local.get $vi))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $irow)))
  )

  ;; x·y over n entries
  (func $dot (export "dot") (param $n i32) (param $x i32) (param $y i32) (result f64)
    (local $j i32) (local $s v128) (local $t f64)
    (local.set $s (v128.const i64x2 0 0))
    (local.set $j (i32.const 0))
    (block $done (loop $pair
      (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
      (local.set $s (f64x2.add (local.get $s) (f64x2.mul
        (v128.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 3))))
        (v128.load (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 3)))))))
      (local.set $j (i32.add (local.get $j) (i32.const 2)))
      (br $pair)))
    (local.set $t (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s))))
    (if (i32.lt_u (local.get $j) (local.get $n))
      (then (local.set $t (f64.add (local.get $t) (f64.mul
        (f64.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 3))))
        (f64.load (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 3)))))))))
    (local.get $t)
  )

  ;; y += c·x over n entries
  (func $axpy (param $n i32) (param $c f64) (param $x i32) (param $y i32)
    (local $j i32) (local $cs v128) (local $o i32)
    (local.set $cs (f64x2.splat (local.get $c)))
    (local.set $j (i32.const 0))
    (block $done (loop $pair
      (br_if $done (i32.gt_u (i32.add (local.get $j) (i32.const 2)) (local.get $n)))
      (local.set $o (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 3))))
      (v128.store (local.get $o) (f64x2.add (v128.load (local.get $o)) (f64x2.mul (local.get $cs)
        (v128.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 3)))))))
      (local.set $j (i32.add (local.get $j) (i32.const 2)))
      (br $pair)))
    (if (i32.lt_u (local.get $j) (local.get $n))
      (then
        (local.set $o (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 3))))
        (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (f64.mul (local.get $c)
          (f64.load (i32.add (local.get $x) (i32.shl (local.get $j) (i32.const 3)))))))))
  )

  ;; one modified Gram–Schmidt pass: for each of the count vectors v_i (n entries each, contiguous
  ;; from vs), w -= (w·v_i) v_i
  (func (export "orthogonalize") (param $count i32) (param $n i32) (param $vs i32) (param $w i32)
    (local $i i32) (local $vi i32)
    (local.set $i (i32.const 0))
    (local.set $vi (local.get $vs))
    (block $done (loop $each
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (call $axpy (local.get $n) (f64.neg (call $dot (local.get $n) (local.get $w) (local.get $vi))) (local.get $vi) (local.get $w))
      (local.set $vi (i32.add (local.get $vi) (i32.shl (local.get $n) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $each)))
  )
)
