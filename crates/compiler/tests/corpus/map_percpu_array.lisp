;; test: prog=p expect=2
;; test: prog=p expect=2
;; map: m key=02000000 value=0200000000000000
(defmap m :type :percpu-array :key-size 4 :value-size 8 :max-entries 4)
(defprog p (:type :xdp)
  (incf (getmap m 2))
  XDP_PASS)
