(defprog p (:type :xdp)
  (let ((count 1))
    (+ cuont 1)))
