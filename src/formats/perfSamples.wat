;; The hot loop of a perf.data parse: runs of SAMPLE records of one plain layout (leading fixed
;; fields, then a callchain, nothing after; one event, or several of that layout told apart by id), as WebAssembly so that it runs at full speed from
;; the first record: V8 compiles a module before it runs (Liftoff), while the same loop in
;; JavaScript spends its first ~10,000 samples in the interpreter.
;;
;; perfDataParser.ts stays the reference: whatever this loop does not fully know (another record
;; type, a field that runs past its record, a value beyond 2^53, a full buffer) it leaves to the
;; JavaScript parser by stopping at that record. The columns it writes equal what
;; Parser.sample() writes; callchains are stored once and shared, as there.
;;
;; Built into perfSamplesWasm.ts by scripts/wasm.mjs. Memory regions, all placed by the caller
;; (src/formats/perfSamplesFast.ts): the input window, the per-call column staging, the new
;; chains of this call (as f64), the chain hash table and the chains it points at (raw u64).
(module
  (memory (export "memory") 1)

  ;; Layout of the one event: byte offsets in a record (-1: absent), where the fixed part ends.
  (global $ipAt (export "ipAt") (mut i32) (i32.const -1))
  (global $tidAt (export "tidAt") (mut i32) (i32.const -1))
  (global $timeAt (export "timeAt") (mut i32) (i32.const -1))
  (global $cpuAt (export "cpuAt") (mut i32) (i32.const -1))
  (global $periodAt (export "periodAt") (mut i32) (i32.const -1))
  (global $fixedEnd (export "fixedEnd") (mut i32) (i32.const 8))
  (global $fixedPeriod (export "fixedPeriod") (mut f64) (f64.const 0))
  ;; With several events: where a sample's id sits (-1: none, every sample is event 0), and a
  ;; table of the ids: 16-byte slots of (id u64, event index + 1, 0 = empty; unused), idMask + 1 of them.
  (global $idAt (export "idAt") (mut i32) (i32.const -1))
  (global $oIds (export "oIds") (mut i32) (i32.const 0))
  (global $idMask (export "idMask") (mut i32) (i32.const 0))

  ;; Column staging (byte offsets of arrays of `batch` entries).
  (global $batch (export "batch") (mut i32) (i32.const 0))
  (global $oPid (export "oPid") (mut i32) (i32.const 0))
  (global $oTid (export "oTid") (mut i32) (i32.const 0))
  (global $oTime (export "oTime") (mut i32) (i32.const 0))
  (global $oIp (export "oIp") (mut i32) (i32.const 0))
  (global $oPeriod (export "oPeriod") (mut i32) (i32.const 0))
  (global $oCpu (export "oCpu") (mut i32) (i32.const 0))
  (global $oMode (export "oMode") (mut i32) (i32.const 0))
  (global $oAttr (export "oAttr") (mut i32) (i32.const 0))
  (global $oChainOff (export "oChainOff") (mut i32) (i32.const 0))
  (global $oChainLen (export "oChainLen") (mut i32) (i32.const 0))
  ;; Samples staged by this call (out).
  (global $count (export "count") (mut i32) (i32.const 0))

  ;; New chains of this call, as f64 entries (out: nNew), at most newCap.
  (global $oNew (export "oNew") (mut i32) (i32.const 0))
  (global $newCap (export "newCap") (mut i32) (i32.const 0))
  (global $nNew (export "nNew") (mut i32) (i32.const 0))
  ;; The caller's chain store: where the next new chain goes (in and out).
  (global $chainUsed (export "chainUsed") (mut i32) (i32.const 0))

  ;; Raw chains known here (u64 words), and the hash table over them: 16-byte slots of
  ;; (raw word index + 1, 0 = empty; hash; length; offset in the caller's chain store).
  (global $oRaw (export "oRaw") (mut i32) (i32.const 0))
  (global $rawCap (export "rawCap") (mut i32) (i32.const 0))
  (global $rawUsed (export "rawUsed") (mut i32) (i32.const 0))
  (global $oHash (export "oHash") (mut i32) (i32.const 0))
  (global $hashMask (export "hashMask") (mut i32) (i32.const 0))
  (global $hashCount (export "hashCount") (mut i32) (i32.const 0))

  ;; Why run() stopped (out): 0 the window's end (or a record running past it), 1 a record
  ;; for the JavaScript parser, 2 a full staging area or table (flush or grow, then go on).
  (global $stop (export "stop") (mut i32) (i32.const 0))

  ;; Whether the high word of a u64 makes it inexact as a double (beyond ±2^53).
  (func $wide (param $hi i32) (result i32)
    (i32.or (i32.ge_s (local.get $hi) (i32.const 0x200000)) (i32.lt_s (local.get $hi) (i32.const -0x200000))))

  ;; Records from byte p to end (the window); returns where it stopped (see $stop).
  (func (export "run") (param $p i32) (param $end i32) (result i32)
    (local $size i32) (local $rec i32) (local $q i32) (local $nr i32) (local $i i32)
    (local $h i32) (local $k i32) (local $m i32) (local $slot i32) (local $at i32)
    (local $off i32) (local $w i32) (local $nr64 i64) (local $ip f64) (local $attr i32) (local $id i64)
    (global.set $count (i32.const 0))
    (global.set $nNew (i32.const 0))
    (block $out
      (loop $next
        (global.set $stop (i32.const 0))
        (br_if $out (i32.gt_u (i32.add (local.get $p) (i32.const 8)) (local.get $end)))
        (global.set $stop (i32.const 1))
        (br_if $out (i32.ne (i32.load (local.get $p)) (i32.const 9)))
        (local.set $size (i32.load16_u offset=6 (local.get $p)))
        (br_if $out (i32.lt_u (local.get $size) (i32.const 8)))
        (local.set $rec (i32.add (local.get $p) (local.get $size)))
        (global.set $stop (i32.const 0))
        (br_if $out (i32.gt_u (local.get $rec) (local.get $end)))
        (global.set $stop (i32.const 2))
        (br_if $out (i32.ge_u (global.get $count) (global.get $batch)))
        (global.set $stop (i32.const 1))
        (br_if $out (i32.gt_u (i32.add (local.get $p) (global.get $fixedEnd)) (local.get $rec)))
        ;; The event, by the sample's id (inside the fixed fields); an unknown id is event 0, as in Parser.attrFor.
        (local.set $attr (i32.const 0))
        (if (i32.ge_s (global.get $idAt) (i32.const 0))
          (then
            (br_if $out (call $wide (i32.load offset=4 (i32.add (local.get $p) (global.get $idAt)))))
            (local.set $id (i64.load (i32.add (local.get $p) (global.get $idAt))))
            (local.set $slot (i32.and (i32.wrap_i64 (local.get $id)) (global.get $idMask)))
            (block $known
              (loop $look
                (local.set $w (i32.add (global.get $oIds) (i32.shl (local.get $slot) (i32.const 4))))
                (br_if $known (i32.eqz (i32.load offset=8 (local.get $w))))
                (if (i64.eq (i64.load (local.get $w)) (local.get $id))
                  (then
                    (local.set $attr (i32.sub (i32.load offset=8 (local.get $w)) (i32.const 1)))
                    (br $known)))
                (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (global.get $idMask)))
                (br $look)))))
        (if (i32.ge_s (global.get $ipAt) (i32.const 0))
          (then
            (br_if $out (call $wide (i32.load offset=4 (i32.add (local.get $p) (global.get $ipAt)))))
            (local.set $ip (f64.convert_i64_s (i64.load (i32.add (local.get $p) (global.get $ipAt))))))
          (else (local.set $ip (f64.const nan))))
        ;; The callchain: u64 nr, then nr entries filling the record exactly.
        (local.set $q (i32.add (local.get $p) (global.get $fixedEnd)))
        (br_if $out (i32.gt_u (i32.add (local.get $q) (i32.const 8)) (local.get $rec)))
        (local.set $nr64 (i64.load (local.get $q)))
        (local.set $q (i32.add (local.get $q) (i32.const 8)))
        ;; (A record holds at most 65535 bytes: a larger nr is bad, and must not wrap below.)
        (br_if $out (i64.gt_u (local.get $nr64) (i64.const 8191)))
        (br_if $out (i64.ne (i64.shl (local.get $nr64) (i64.const 3))
                            (i64.extend_i32_u (i32.sub (local.get $rec) (local.get $q)))))
        (local.set $nr (i32.wrap_i64 (local.get $nr64)))
        (if (i32.eqz (local.get $nr))
          (then (local.set $off (global.get $chainUsed)))
          (else
            ;; The hash Parser.alignedChain computes: length, first high word, up to six low words, the last low word.
            (local.set $h (i32.xor (i32.mul (local.get $nr) (i32.const 0x9e3779b1)) (i32.load offset=4 (local.get $q))))
            (local.set $m (select (local.get $nr) (i32.const 6) (i32.lt_u (local.get $nr) (i32.const 6))))
            (local.set $k (i32.const 0))
            (loop $hash
              (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load (i32.add (local.get $q) (i32.shl (local.get $k) (i32.const 3)))))
                                     (i32.const 0x85ebca6b)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br_if $hash (i32.lt_u (local.get $k) (local.get $m))))
            (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load (i32.add (local.get $q) (i32.shl (i32.sub (local.get $nr) (i32.const 1)) (i32.const 3)))))
                                   (i32.const 0xc2b2ae35)))
            (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))))
            ;; Probe for an equal chain.
            (local.set $off (i32.const -1))
            (local.set $slot (i32.and (local.get $h) (global.get $hashMask)))
            (block $probed
              (loop $probe
                (local.set $at (i32.add (global.get $oHash) (i32.shl (local.get $slot) (i32.const 4))))
                (br_if $probed (i32.eqz (i32.load (local.get $at))))
                (if (i32.and (i32.eq (i32.load offset=4 (local.get $at)) (local.get $h))
                             (i32.eq (i32.load offset=8 (local.get $at)) (local.get $nr)))
                  (then
                    (local.set $w (i32.add (global.get $oRaw) (i32.shl (i32.sub (i32.load (local.get $at)) (i32.const 1)) (i32.const 3))))
                    (local.set $k (i32.const 0))
                    (block $differ
                      (loop $cmp
                        (br_if $differ (i64.ne (i64.load (i32.add (local.get $w) (i32.shl (local.get $k) (i32.const 3))))
                                               (i64.load (i32.add (local.get $q) (i32.shl (local.get $k) (i32.const 3))))))
                        (local.set $k (i32.add (local.get $k) (i32.const 1)))
                        (br_if $cmp (i32.lt_u (local.get $k) (local.get $nr))))
                      (local.set $off (i32.load offset=12 (local.get $at)))
                      (br $probed))))
                (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (global.get $hashMask)))
                (br $probe)))
            (if (i32.lt_s (local.get $off) (i32.const 0))
              (then
                ;; A new chain: exact values only (the JavaScript parser keeps the others aside), and room for it.
                (local.set $k (i32.const 0))
                (loop $exact
                  (br_if $out (call $wide (i32.load offset=4 (i32.add (local.get $q) (i32.shl (local.get $k) (i32.const 3))))))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br_if $exact (i32.lt_u (local.get $k) (local.get $nr))))
                ;; (A chain store past 2^31 entries: the JavaScript parser's, which stops sharing there.)
                (br_if $out (i32.gt_u (local.get $nr) (i32.sub (i32.const 0x7fffffff) (global.get $chainUsed))))
                (global.set $stop (i32.const 2))
                (br_if $out (i32.gt_u (i32.add (global.get $rawUsed) (local.get $nr)) (global.get $rawCap)))
                (br_if $out (i32.gt_u (i32.add (global.get $nNew) (local.get $nr)) (global.get $newCap)))
                (br_if $out (i32.gt_u (i32.shl (i32.add (global.get $hashCount) (i32.const 1)) (i32.const 1)) (global.get $hashMask)))
                (local.set $k (i32.const 0))
                (loop $copy
                  (local.set $nr64 (i64.load (i32.add (local.get $q) (i32.shl (local.get $k) (i32.const 3)))))
                  (i64.store (i32.add (global.get $oRaw) (i32.shl (i32.add (global.get $rawUsed) (local.get $k)) (i32.const 3))) (local.get $nr64))
                  (f64.store (i32.add (global.get $oNew) (i32.shl (i32.add (global.get $nNew) (local.get $k)) (i32.const 3)))
                             (f64.convert_i64_s (local.get $nr64)))
                  (local.set $k (i32.add (local.get $k) (i32.const 1)))
                  (br_if $copy (i32.lt_u (local.get $k) (local.get $nr))))
                (i32.store (local.get $at) (i32.add (global.get $rawUsed) (i32.const 1)))
                (i32.store offset=4 (local.get $at) (local.get $h))
                (i32.store offset=8 (local.get $at) (local.get $nr))
                (i32.store offset=12 (local.get $at) (global.get $chainUsed))
                (local.set $off (global.get $chainUsed))
                (global.set $hashCount (i32.add (global.get $hashCount) (i32.const 1)))
                (global.set $rawUsed (i32.add (global.get $rawUsed) (local.get $nr)))
                (global.set $nNew (i32.add (global.get $nNew) (local.get $nr)))
                (global.set $chainUsed (i32.add (global.get $chainUsed) (local.get $nr)))))))
        ;; The sample is whole: write its columns.
        (local.set $i (global.get $count))
        (f64.store (i32.add (global.get $oIp) (i32.shl (local.get $i) (i32.const 3))) (local.get $ip))
        (if (i32.ge_s (global.get $tidAt) (i32.const 0))
          (then
            (i32.store (i32.add (global.get $oPid) (i32.shl (local.get $i) (i32.const 2))) (i32.load (i32.add (local.get $p) (global.get $tidAt))))
            (i32.store (i32.add (global.get $oTid) (i32.shl (local.get $i) (i32.const 2))) (i32.load offset=4 (i32.add (local.get $p) (global.get $tidAt)))))
          (else
            (i32.store (i32.add (global.get $oPid) (i32.shl (local.get $i) (i32.const 2))) (i32.const -1))
            (i32.store (i32.add (global.get $oTid) (i32.shl (local.get $i) (i32.const 2))) (i32.const -1))))
        (f64.store (i32.add (global.get $oTime) (i32.shl (local.get $i) (i32.const 3)))
          (if (result f64) (i32.ge_s (global.get $timeAt) (i32.const 0))
            (then (f64.convert_i64_u (i64.load (i32.add (local.get $p) (global.get $timeAt)))))
            (else (f64.const nan))))
        (i32.store (i32.add (global.get $oCpu) (i32.shl (local.get $i) (i32.const 2)))
          (if (result i32) (i32.ge_s (global.get $cpuAt) (i32.const 0))
            (then (i32.load (i32.add (local.get $p) (global.get $cpuAt))))
            (else (i32.const -1))))
        (f64.store (i32.add (global.get $oPeriod) (i32.shl (local.get $i) (i32.const 3)))
          (if (result f64) (i32.ge_s (global.get $periodAt) (i32.const 0))
            (then (f64.convert_i64_u (i64.load (i32.add (local.get $p) (global.get $periodAt)))))
            (else (global.get $fixedPeriod))))
        (i32.store8 (i32.add (global.get $oMode) (local.get $i)) (i32.and (i32.load16_u offset=4 (local.get $p)) (i32.const 7)))
        (i32.store16 (i32.add (global.get $oAttr) (i32.shl (local.get $i) (i32.const 1))) (local.get $attr))
        (i32.store (i32.add (global.get $oChainOff) (i32.shl (local.get $i) (i32.const 2))) (local.get $off))
        (i32.store (i32.add (global.get $oChainLen) (i32.shl (local.get $i) (i32.const 2))) (local.get $nr))
        (global.set $count (i32.add (local.get $i) (i32.const 1)))
        (local.set $p (local.get $rec))
        (br $next)))
    (local.get $p))
)
