(defprog p (:type :xdp) 1)
(defprog p (:type :xdp) 2)
