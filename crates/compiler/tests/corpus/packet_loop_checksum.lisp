;; test: prog=p data=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 expect=528
;; a bounded loop over packet bytes with a bounds check the verifier follows on every iteration
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)) (sum 0))
    (dotimes (i 32)
      (let ((byte-ptr (+ data i)))
        (when (> (+ byte-ptr 1) data-end) (return sum))
        (incf sum (load u8 byte-ptr 0))))
    sum))
