(defprog p (:type :xdp)
  (let ((x u33 5)) x))
