;; The per-sample loop of ChainGroups.update (chainGroups.ts), as WebAssembly: it runs at full
;; speed from the first sample, where the JavaScript loop spends its first tens of thousands in
;; V8's interpreter. Same keys, same group ids (in order of first appearance), same sums.
;;
;; A sample's key: (chain offset, or the ip when it has no chain; chain length; pid; cpu mode;
;; event). Per group: a sample of it, the sample count, period sum and time range, and the call
;; that last touched it. Each call lists the groups it touched, in the order it first did.
;;
;; Built into chainGroupsWasm.ts by scripts/wasm.mjs. Regions are placed by chainGroupsFast.ts.
(module
  (memory (export "memory") 1)

  ;; Input: one batch of samples' columns (byte offsets of arrays of `batch` entries).
  (global $iOff (export "iOff") (mut i32) (i32.const 0))
  (global $iLen (export "iLen") (mut i32) (i32.const 0))
  (global $iPid (export "iPid") (mut i32) (i32.const 0))
  (global $iMode (export "iMode") (mut i32) (i32.const 0))
  (global $iAttr (export "iAttr") (mut i32) (i32.const 0))
  (global $iIp (export "iIp") (mut i32) (i32.const 0))
  (global $iPeriod (export "iPeriod") (mut i32) (i32.const 0))
  (global $iTime (export "iTime") (mut i32) (i32.const 0))

  ;; Groups: arrays of `groupCap` entries; `groups` made so far.
  (global $gRep (export "gRep") (mut i32) (i32.const 0))
  (global $gCount (export "gCount") (mut i32) (i32.const 0))
  (global $gPeriod (export "gPeriod") (mut i32) (i32.const 0))
  (global $gTMin (export "gTMin") (mut i32) (i32.const 0))
  (global $gTMax (export "gTMax") (mut i32) (i32.const 0))
  (global $gStamp (export "gStamp") (mut i32) (i32.const 0))
  (global $groupCap (export "groupCap") (mut i32) (i32.const 0))
  (global $groups (export "groups") (mut i32) (i32.const 0))

  ;; Key table: 32-byte slots (group + 1, 0 = empty; pid; chain length; mode | event << 8; key u64;
;; its hash, for rehashing), hashMask + 1 of them.
  (global $oHash (export "oHash") (mut i32) (i32.const 0))
  (global $hashMask (export "hashMask") (mut i32) (i32.const 0))

  ;; This call's number (set by the caller), and the groups it touched (out: `touched` of them).
  (global $call (export "call") (mut i32) (i32.const 0))
  (global $oTouched (export "oTouched") (mut i32) (i32.const 0))
  (global $touched (export "touched") (mut i32) (i32.const 0))

  ;; Groups the batch's samples [from, n) (sample `base` + i is batch entry i); returns where it
  ;; stopped: n, or the first sample that needs a larger table or more groups (then make room and go on).
  (func (export "run") (param $from i32) (param $n i32) (param $base i32) (result i32)
    (local $i i32) (local $len i32) (local $pid i32) (local $ma i32) (local $k i64)
    (local $h i32) (local $slot i32) (local $at i32) (local $g i32) (local $t f64) (local $q i32)
    ;; The globals in locals for the loop: a global is a load through the instance each time.
    (local $iOff_ i32) (local $iLen_ i32) (local $iPid_ i32) (local $iMode_ i32) (local $iAttr_ i32) (local $iIp_ i32) (local $iPeriod_ i32) (local $iTime_ i32) (local $gRep_ i32) (local $gCount_ i32) (local $gPeriod_ i32) (local $gTMin_ i32) (local $gTMax_ i32) (local $gStamp_ i32) (local $groupCap_ i32) (local $oHash_ i32) (local $hashMask_ i32) (local $call_ i32) (local $oTouched_ i32) (local $groups_ i32) (local $touched_ i32)
    (local.set $iOff_ (global.get $iOff))
    (local.set $iLen_ (global.get $iLen))
    (local.set $iPid_ (global.get $iPid))
    (local.set $iMode_ (global.get $iMode))
    (local.set $iAttr_ (global.get $iAttr))
    (local.set $iIp_ (global.get $iIp))
    (local.set $iPeriod_ (global.get $iPeriod))
    (local.set $iTime_ (global.get $iTime))
    (local.set $gRep_ (global.get $gRep))
    (local.set $gCount_ (global.get $gCount))
    (local.set $gPeriod_ (global.get $gPeriod))
    (local.set $gTMin_ (global.get $gTMin))
    (local.set $gTMax_ (global.get $gTMax))
    (local.set $gStamp_ (global.get $gStamp))
    (local.set $groupCap_ (global.get $groupCap))
    (local.set $oHash_ (global.get $oHash))
    (local.set $hashMask_ (global.get $hashMask))
    (local.set $call_ (global.get $call))
    (local.set $oTouched_ (global.get $oTouched))
    (local.set $groups_ (global.get $groups))
    (local.set $touched_ (global.get $touched))
    (local.set $i (local.get $from))
    (block $out
      (loop $next
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $len (i32.load (i32.add (local.get $iLen_) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $pid (i32.load (i32.add (local.get $iPid_) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $ma (i32.or (i32.load8_u (i32.add (local.get $iMode_) (local.get $i)))
                               (i32.shl (i32.load16_u (i32.add (local.get $iAttr_) (i32.shl (local.get $i) (i32.const 1)))) (i32.const 8))))
        ;; The chain (the parser stores each distinct one once), or the ip of a sample without one.
        (local.set $k
          (if (result i64) (i32.eqz (local.get $len))
            (then (i64.load (i32.add (local.get $iIp_) (i32.shl (local.get $i) (i32.const 3)))))
            (else (i64.extend_i32_u (i32.load (i32.add (local.get $iOff_) (i32.shl (local.get $i) (i32.const 2))))))))
        (local.set $h (i32.xor (i32.wrap_i64 (local.get $k)) (i32.wrap_i64 (i64.shr_u (local.get $k) (i64.const 32)))))
        (local.set $h (i32.mul (i32.xor (local.get $h) (i32.mul (local.get $pid) (i32.const 0x9e3779b1))) (i32.const 0x85ebca6b)))
        (local.set $h (i32.mul (i32.xor (local.get $h) (i32.add (local.get $ma) (i32.shl (local.get $len) (i32.const 16)))) (i32.const 0xc2b2ae35)))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 15))))
        (local.set $slot (i32.and (local.get $h) (local.get $hashMask_)))
        (block $found
          (loop $probe
            (local.set $at (i32.add (local.get $oHash_) (i32.shl (local.get $slot) (i32.const 5))))
            (if (i32.eqz (i32.load (local.get $at)))
              (then
                ;; A new group: room for it first.
                (br_if $out (i32.ge_u (local.get $groups_) (local.get $groupCap_)))
                (br_if $out (i32.gt_u (i32.shl (i32.add (local.get $groups_) (i32.const 1)) (i32.const 1)) (local.get $hashMask_)))
                (local.set $g (local.get $groups_))
                (local.set $groups_ (i32.add (local.get $g) (i32.const 1)))
                (i32.store (local.get $at) (i32.add (local.get $g) (i32.const 1)))
                (i32.store offset=4 (local.get $at) (local.get $pid))
                (i32.store offset=8 (local.get $at) (local.get $len))
                (i32.store offset=12 (local.get $at) (local.get $ma))
                (i64.store offset=16 (local.get $at) (local.get $k))
                (i32.store offset=24 (local.get $at) (local.get $h))
                (i32.store (i32.add (local.get $gRep_) (i32.shl (local.get $g) (i32.const 2))) (i32.add (local.get $base) (local.get $i)))
                (f64.store (i32.add (local.get $gCount_) (i32.shl (local.get $g) (i32.const 3))) (f64.const 0))
                (f64.store (i32.add (local.get $gPeriod_) (i32.shl (local.get $g) (i32.const 3))) (f64.const 0))
                (f64.store (i32.add (local.get $gTMin_) (i32.shl (local.get $g) (i32.const 3))) (f64.const inf))
                (f64.store (i32.add (local.get $gTMax_) (i32.shl (local.get $g) (i32.const 3))) (f64.const -inf))
                (i32.store (i32.add (local.get $gStamp_) (i32.shl (local.get $g) (i32.const 2))) (i32.const -1))
                (br $found)))
            (if (i32.and
                  (i32.and (i32.eq (i32.load offset=4 (local.get $at)) (local.get $pid))
                           (i32.eq (i32.load offset=8 (local.get $at)) (local.get $len)))
                  (i32.and (i32.eq (i32.load offset=12 (local.get $at)) (local.get $ma))
                           (i64.eq (i64.load offset=16 (local.get $at)) (local.get $k))))
              (then
                (local.set $g (i32.sub (i32.load (local.get $at)) (i32.const 1)))
                (br $found)))
            (local.set $slot (i32.and (i32.add (local.get $slot) (i32.const 1)) (local.get $hashMask_)))
            (br $probe)))
        ;; Count the sample in group g (a NaN time changes no bound, as in the JavaScript loop).
        (local.set $q (i32.shl (local.get $g) (i32.const 3)))
        (f64.store (i32.add (local.get $gCount_) (local.get $q))
          (f64.add (f64.load (i32.add (local.get $gCount_) (local.get $q))) (f64.const 1)))
        (f64.store (i32.add (local.get $gPeriod_) (local.get $q))
          (f64.add (f64.load (i32.add (local.get $gPeriod_) (local.get $q)))
                   (f64.load (i32.add (local.get $iPeriod_) (i32.shl (local.get $i) (i32.const 3))))))
        (local.set $t (f64.load (i32.add (local.get $iTime_) (i32.shl (local.get $i) (i32.const 3)))))
        (if (f64.lt (local.get $t) (f64.load (i32.add (local.get $gTMin_) (local.get $q))))
          (then (f64.store (i32.add (local.get $gTMin_) (local.get $q)) (local.get $t))))
        (if (f64.gt (local.get $t) (f64.load (i32.add (local.get $gTMax_) (local.get $q))))
          (then (f64.store (i32.add (local.get $gTMax_) (local.get $q)) (local.get $t))))
        (if (i32.ne (i32.load (i32.add (local.get $gStamp_) (i32.shl (local.get $g) (i32.const 2)))) (local.get $call_))
          (then
            (i32.store (i32.add (local.get $gStamp_) (i32.shl (local.get $g) (i32.const 2))) (local.get $call_))
            (i32.store (i32.add (local.get $oTouched_) (i32.shl (local.get $touched_) (i32.const 2))) (local.get $g))
            (local.set $touched_ (i32.add (local.get $touched_) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (global.set $groups (local.get $groups_))
    (global.set $touched (local.get $touched_))
    (local.get $i))
)
