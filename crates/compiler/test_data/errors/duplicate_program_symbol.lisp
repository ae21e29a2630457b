(defprog a-b (:type :xdp) 1)
(defprog a_b (:type :xdp) 2)
