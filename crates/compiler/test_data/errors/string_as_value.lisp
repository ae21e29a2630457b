(defprog p (:type :xdp)
  "hello")
