;; test: prog=p expect=2
;; test: prog=p expect=2
;; map: m key=0100000000000000 value=06000000
;; 4-byte values use a 32-bit atomic add; 8-byte keys
(defmap m :type :hash :key-size 8 :value-size 4 :max-entries 4)
(defprog p (:type :xdp)
  (incf (getmap m 1) 3)
  XDP_PASS)
