;; test: prog=p data=ab020000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=163
;; bitwise ops
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return XDP_ABORTED))
    (let ((x (load u8 data 0)) (y (load u8 data 1)))
      (logior (logand x #xf0) (logxor y 1) (logand (lognot x) 0)))))
