;; test: prog=p data=02000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=65
;; dotimes loop sum
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return XDP_ABORTED))
    (let ((x (load u8 data 0)) (y (load u8 data 1)))
      (let ((s 0)) (dotimes (i 10) (setf s (+ s i x))) s))))
