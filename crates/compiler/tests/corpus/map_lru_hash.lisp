;; test: prog=p expect=2
;; map: m key=0300 value=07000000
;; two-byte keys, four-byte values
(defmap m :type :lru-hash :key-size 2 :value-size 4 :max-entries 8)
(defprog p (:type :xdp)
  (setf (getmap m 3) (+ 4 3))
  XDP_PASS)
