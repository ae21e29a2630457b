(defstruct s (v (array u32 4)))
(defprog p (:type :xdp)
  (let ((x (make-s)))
    (s-v x 4)))
