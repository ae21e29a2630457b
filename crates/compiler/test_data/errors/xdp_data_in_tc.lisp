(defprog p (:type :tc)
  (xdp-data))
