(defstruct big (data (array u8 300)))
(defprog p (:type :xdp)
  (let ((a (make-big)) (b (make-big)))
    (+ (load u8 a 0) (load u8 b 0))))
