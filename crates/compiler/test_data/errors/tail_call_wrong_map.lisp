(defmap m :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (tail-call m 0)
  XDP_PASS)
