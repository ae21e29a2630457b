;; test: prog=p expect=2
;; map: m key=2a000000 value=0900000000000000
;; stack-addr passes a variable's address to helpers
(defmap m :type :hash :key-size 4 :value-size 8 :max-entries 4)
(defprog p (:type :xdp)
  (let ((k u32 42) (v u64 9))
    (map-update-ptr m (stack-addr k) (stack-addr v) BPF_ANY)
    XDP_PASS))
