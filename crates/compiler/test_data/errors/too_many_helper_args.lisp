(defprog p (:type :xdp)
  (redirect 1 2 3 4 5 6))
