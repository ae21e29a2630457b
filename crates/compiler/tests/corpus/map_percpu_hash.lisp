;; test: prog=p expect=2
;; map: m key=09000000 value=2a00000000000000
(defmap m :type :percpu-hash :key-size 4 :value-size 8 :max-entries 4)
(defprog p (:type :xdp)
  (setf (getmap m 9) 42)
  XDP_PASS)
