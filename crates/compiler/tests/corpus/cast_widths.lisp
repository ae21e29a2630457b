;; test: prog=p data=01020000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=1000513
;; cast widths
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return XDP_ABORTED))
    (let ((x (load u8 data 0)) (y (load u8 data 1)))
      (let ((v (+ (<< x 24) (<< y 8) x -1))) (+ (cast u8 v) (cast u16 v) (>> (cast u32 (- 0 1)) 31) (if (= (cast u64 v) v) 1000000 0))))))
