;; test: prog=p expect=110
;; ten null-checked map value pointers live across helper calls: they spill to 8-byte aligned
;; stack slots and the verifier keeps their type and null-check through the reloads
(defmap m :type :array :key-size 4 :value-size 8 :max-entries 16)
(defprog p (:type :xdp)
  (let ((p0 (map-lookup m 0)) (p1 (map-lookup m 1)) (p2 (map-lookup m 2)) (p3 (map-lookup m 3)) (p4 (map-lookup m 4)) (p5 (map-lookup m 5)) (p6 (map-lookup m 6)) (p7 (map-lookup m 7)) (p8 (map-lookup m 8)) (p9 (map-lookup m 9)))
    (unless (and p0 p1 p2 p3 p4 p5 p6 p7 p8 p9) (return 0))
    (store u64 p0 0 1) (store u64 p1 0 2) (store u64 p2 0 3) (store u64 p3 0 4) (store u64 p4 0 5) (store u64 p5 0 6) (store u64 p6 0 7) (store u64 p7 0 8) (store u64 p8 0 9) (store u64 p9 0 10)
    (ktime-get-ns)
    (let ((first (+ (load u64 p0 0) (load u64 p1 0) (load u64 p2 0) (load u64 p3 0) (load u64 p4 0) (load u64 p5 0) (load u64 p6 0) (load u64 p7 0) (load u64 p8 0) (load u64 p9 0))))
      (get-prandom-u32)
      (+ first (load u64 p0 0) (load u64 p1 0) (load u64 p2 0) (load u64 p3 0) (load u64 p4 0) (load u64 p5 0) (load u64 p6 0) (load u64 p7 0) (load u64 p8 0) (load u64 p9 0)))))
