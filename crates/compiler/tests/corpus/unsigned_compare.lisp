;; test: prog=p data=03030000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=30
;; test: prog=p data=141e0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=21
;; unsigned compare
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return XDP_ABORTED))
    (let ((x (load u8 data 0)) (y (load u8 data 1)))
      (let ((v (- x 10))) (+ (if (< v 100) 1 0) (if (> v 100) 2 0) (if (/= x 10) 4 0) (if (>= x y) 8 0) (if (<= x y) 16 0))))))
