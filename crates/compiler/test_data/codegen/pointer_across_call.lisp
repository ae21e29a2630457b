;; A packet pointer whose checked end lives across a helper call: the end is computed in R6,
;; where the pointer was loaded (no `r6 = r2` copy).
(defmap seen :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (let* ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 20) data-end) (return 1))
    (let ((v (getmap seen 0)))
      (if (= v 0) (load u8 data 13) 7))))
