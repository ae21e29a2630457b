(defprog p (:type :xdp)
  (if 1))
