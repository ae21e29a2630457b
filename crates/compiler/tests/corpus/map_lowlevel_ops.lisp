;; test: prog=p expect=2
;; map: m key=05000000 value=0b00000000000000
;; map-update / map-lookup / map-delete with scalar keys and values
(defmap m :type :hash :key-size 4 :value-size 8 :max-entries 8)
(defprog p (:type :xdp)
  (map-update m 5 10 BPF_ANY)
  (map-update m 6 20 BPF_NOEXIST)
  (map-delete m 6)
  (let ((ptr (map-lookup m 5)))
    (when ptr
      (store u64 ptr 0 (+ (load u64 ptr 0) 1))))
  (if (map-lookup m 6) XDP_DROP XDP_PASS))
