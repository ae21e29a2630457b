(defprog p (:type :xpd)
  0)
