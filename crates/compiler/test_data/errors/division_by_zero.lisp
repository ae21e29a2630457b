(defprog p (:type :xdp)
  (/ 10 0))
