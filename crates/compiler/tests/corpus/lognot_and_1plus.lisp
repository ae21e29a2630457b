;; test: prog=p data=05000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=1260
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (let ((x (load u8 data 0)))
      (+ (logand (lognot x) #xff) (1+ x) (1- x) (if (zerop (- x 5)) 1000 0)))))
