(defprog p (:type :xdp)
  (let ((a 1))
    (setf a)))
