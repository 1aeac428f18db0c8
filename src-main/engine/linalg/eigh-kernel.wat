;; The O(n³) row loops of eigh.ts (tred2/tql2) in WebAssembly SIMD (f64x2). Compiled by
;; scripts/build-wasm-kernels.ts into eigh-kernel.ts (base64). Addresses are byte offsets into the
;; module's memory, where the caller keeps the working matrix and the d and e vectors.
(module
  (memory (export "memory") 1)

  ;; plane rotation of rows x and y (n entries): y ← s·x + c·y, x ← c·x − s·y
  (func (export "rot") (param $n i32) (param $c f64) (param $s f64) (param $x i32) (param $y i32)
    (local $k i32) (local $cs v128) (local $ss v128) (local $vx v128) (local $vy v128) (local $ox i32) (local $oy i32)
    (local $hx f64) (local $hy f64)
    (local.set $cs (f64x2.splat (local.get $c)))
    (local.set $ss (f64x2.splat (local.get $s)))
    (block $done (loop $pair
      (br_if $done (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $n)))
      (local.set $ox (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3))))
      (local.set $oy (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 3))))
      (local.set $vx (v128.load (local.get $ox)))
      (local.set $vy (v128.load (local.get $oy)))
      (v128.store (local.get $oy) (f64x2.add (f64x2.mul (local.get $ss) (local.get $vx)) (f64x2.mul (local.get $cs) (local.get $vy))))
      (v128.store (local.get $ox) (f64x2.sub (f64x2.mul (local.get $cs) (local.get $vx)) (f64x2.mul (local.get $ss) (local.get $vy))))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (br $pair)))
    (if (i32.lt_u (local.get $k) (local.get $n))
      (then
        (local.set $ox (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $oy (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 3))))
        (local.set $hx (f64.load (local.get $ox)))
        (local.set $hy (f64.load (local.get $oy)))
        (f64.store (local.get $oy) (f64.add (f64.mul (local.get $s) (local.get $hx)) (f64.mul (local.get $c) (local.get $hy))))
        (f64.store (local.get $ox) (f64.sub (f64.mul (local.get $c) (local.get $hx)) (f64.mul (local.get $s) (local.get $hy))))))
  )

  ;; returns Σ v[k]·d[k] and does e[k] += f·v[k], over n entries
  (func (export "dotAxpy") (param $n i32) (param $v i32) (param $d i32) (param $e i32) (param $f f64) (result f64)
    (local $k i32) (local $acc v128) (local $fs v128) (local $vv v128) (local $oe i32) (local $t f64) (local $vk f64)
    (local.set $fs (f64x2.splat (local.get $f)))
    (block $done (loop $pair
      (br_if $done (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $n)))
      (local.set $vv (v128.load (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 3)))))
      (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (local.get $vv)
        (v128.load (i32.add (local.get $d) (i32.shl (local.get $k) (i32.const 3)))))))
      (local.set $oe (i32.add (local.get $e) (i32.shl (local.get $k) (i32.const 3))))
      (v128.store (local.get $oe) (f64x2.add (v128.load (local.get $oe)) (f64x2.mul (local.get $vv) (local.get $fs))))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (br $pair)))
    (local.set $t (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (if (i32.lt_u (local.get $k) (local.get $n))
      (then
        (local.set $vk (f64.load (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 3)))))
        (local.set $t (f64.add (local.get $t)
          (f64.mul (local.get $vk) (f64.load (i32.add (local.get $d) (i32.shl (local.get $k) (i32.const 3)))))))
        (local.set $oe (i32.add (local.get $e) (i32.shl (local.get $k) (i32.const 3))))
        (f64.store (local.get $oe) (f64.add (f64.load (local.get $oe)) (f64.mul (local.get $vk) (local.get $f))))))
    (local.get $t)
  )

  ;; t[k] −= f·e[k] + g·d[k], over n entries
  (func (export "rank2") (param $n i32) (param $t i32) (param $e i32) (param $d i32) (param $f f64) (param $g f64)
    (local $k i32) (local $fs v128) (local $gs v128) (local $ot i32) (local $ko i32)
    (local.set $fs (f64x2.splat (local.get $f)))
    (local.set $gs (f64x2.splat (local.get $g)))
    (block $done (loop $pair
      (br_if $done (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $n)))
      (local.set $ko (i32.shl (local.get $k) (i32.const 3)))
      (local.set $ot (i32.add (local.get $t) (local.get $ko)))
      (v128.store (local.get $ot) (f64x2.sub (v128.load (local.get $ot)) (f64x2.add
        (f64x2.mul (local.get $fs) (v128.load (i32.add (local.get $e) (local.get $ko))))
        (f64x2.mul (local.get $gs) (v128.load (i32.add (local.get $d) (local.get $ko)))))))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (br $pair)))
    (if (i32.lt_u (local.get $k) (local.get $n))
      (then
        (local.set $ko (i32.shl (local.get $k) (i32.const 3)))
        (local.set $ot (i32.add (local.get $t) (local.get $ko)))
        (f64.store (local.get $ot) (f64.sub (f64.load (local.get $ot)) (f64.add
          (f64.mul (local.get $f) (f64.load (i32.add (local.get $e) (local.get $ko))))
          (f64.mul (local.get $g) (f64.load (i32.add (local.get $d) (local.get $ko)))))))))
  )

  ;; y[k] −= (x·y)·z[k] over n entries (one Householder reflector applied to a row: g = x·y, y −= g·z)
  (func (export "reflect") (param $n i32) (param $x i32) (param $y i32) (param $z i32)
    (local $k i32) (local $acc v128) (local $g f64) (local $gs v128) (local $oy i32) (local $ko i32)
    (block $done (loop $pair
      (br_if $done (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $n)))
      (local.set $ko (i32.shl (local.get $k) (i32.const 3)))
      (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul
        (v128.load (i32.add (local.get $x) (local.get $ko))) (v128.load (i32.add (local.get $y) (local.get $ko))))))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (br $pair)))
    (local.set $g (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (if (i32.lt_u (local.get $k) (local.get $n))
      (then
        (local.set $ko (i32.shl (local.get $k) (i32.const 3)))
        (local.set $g (f64.add (local.get $g) (f64.mul
          (f64.load (i32.add (local.get $x) (local.get $ko))) (f64.load (i32.add (local.get $y) (local.get $ko))))))))
    (local.set $gs (f64x2.splat (local.get $g)))
    (local.set $k (i32.const 0))
    (block $done2 (loop $pair2
      (br_if $done2 (i32.gt_u (i32.add (local.get $k) (i32.const 2)) (local.get $n)))
      (local.set $ko (i32.shl (local.get $k) (i32.const 3)))
      (local.set $oy (i32.add (local.get $y) (local.get $ko)))
      (v128.store (local.get $oy) (f64x2.sub (v128.load (local.get $oy))
        (f64x2.mul (local.get $gs) (v128.load (i32.add (local.get $z) (local.get $ko))))))
      (local.set $k (i32.add (local.get $k) (i32.const 2)))
      (br $pair2)))
    (if (i32.lt_u (local.get $k) (local.get $n))
      (then
        (local.set $ko (i32.shl (local.get $k) (i32.const 3)))
        (local.set $oy (i32.add (local.get $y) (local.get $ko)))
        (f64.store (local.get $oy) (f64.sub (f64.load (local.get $oy))
          (f64.mul (local.get $g) (f64.load (i32.add (local.get $z) (local.get $ko))))))))
  )
)
