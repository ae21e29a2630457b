(defprog p (:type :xdp)
  (ctx data-edn))
