(defprog p (:type :xdp)
  (asm #xb7 11 0 0 1))
