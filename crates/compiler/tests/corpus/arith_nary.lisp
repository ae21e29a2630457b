;; test: prog=p data=0a140000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=10
;; arith nary
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return XDP_ABORTED))
    (let ((x (load u8 data 0)) (y (load u8 data 1)))
      (- (+ x y 1 2) (* x 2 1) 3))))
