(defprog a (:type :xdp :license "GPL") 1)
(defprog b (:type :xdp :license "MIT") 2)
