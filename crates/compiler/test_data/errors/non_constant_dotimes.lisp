(defprog p (:type :xdp)
  (let ((n (xdp-data)))
    (dotimes (i n) 0)))
