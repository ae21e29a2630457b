(defprog p (:type :xdp)
  (wehn (= 1 1) 2))
