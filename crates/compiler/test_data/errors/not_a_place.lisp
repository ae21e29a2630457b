(defprog p (:type :xdp)
  (setf (+ 1 2) 3))
