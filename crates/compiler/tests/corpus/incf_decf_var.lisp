;; test: prog=p data=32000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=57
;; incf decf var
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return XDP_ABORTED))
    (let ((x (load u8 data 0)) (y (load u8 data 1)))
      (let ((a x)) (incf a) (incf a 10) (decf a 3) (decf a) a))))
