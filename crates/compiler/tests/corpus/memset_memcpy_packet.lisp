;; test: prog=p data=00000000000000000000000000000000112233445566778800000000000077000000000000000000000000000000000000000000000000000000000000000000 expect=2 out=abababababab000011223344556677881122334455667788777777
;; memset memcpy packet
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 32) data-end) (return 0))
    (memset data 0 #xab 6)
    (memcpy data 8 data 16 8)
    (memset data 24 (load u8 data 30) 3)
    XDP_PASS))
