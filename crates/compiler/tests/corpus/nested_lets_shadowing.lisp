;; test: prog=p data=03000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=31034
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (let ((x (load u8 data 0)))
      (let ((x (* x 10)) (y x))
        (let* ((x (+ x 1)) (z (+ x y)))
          (+ (* 1000 x) z))))))
