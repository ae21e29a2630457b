;; test: prog=p data=ff00fefffdfffffffcffffffffffffff000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=63
;; signed loads
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (+ (if (s< (load i8 data 0) 0) 1 0)
       (if (= (load i8 data 0) -1) 2 0)
       (if (= (load i16 data 2) -2) 4 0)
       (if (= (load i32 data 4) -3) 8 0)
       (if (= (load u8 data 0) 255) 16 0)
       (if (= (load i64 data 8) -4) 32 0))))
