(defprog p (:type :xdp)
  (load u32))
