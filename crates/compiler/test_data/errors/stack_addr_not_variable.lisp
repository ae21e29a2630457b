(defprog p (:type :xdp)
  (stack-addr 5))
