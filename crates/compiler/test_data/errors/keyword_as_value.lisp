(defprog p (:type :xdp)
  (+ :foo 1))
