(defprog p (:type :xdp)
  (+ 1 2)
