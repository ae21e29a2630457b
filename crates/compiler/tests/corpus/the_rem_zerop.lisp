;; test: prog=p data=2a000000000000000000000000000000 expect=1442
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (let ((x (load u8 data 0)))
      (+ (the u8 (+ x 200)) (* 100 (rem x 10)) (if (zerop (load u8 data 1)) 1000 0)))))
