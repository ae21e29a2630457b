;; test: prog=p data=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f expect=13
;; test: prog=p data=000102030405060708090a0b0c0d0e0f expect=1
;; a packet pointer whose checked end lives across a helper call: the end is computed in the
;; register the pointer was loaded into (R6), no copy (regalloc merging across calls)
(defmap seen :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (let* ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 20) data-end) (return 1))
    (let ((v (getmap seen 0)))
      (if (= v 0) (load u8 data 13) 7))))
