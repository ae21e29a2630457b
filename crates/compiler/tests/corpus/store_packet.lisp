;; test: prog=p data=00000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=3 out=aa55341202000000ffffffffffffffff
;; store packet
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (store u8 data 0 #xaa)
    (store u16 data 2 #x1234)
    (store u32 data 4 (+ (load u32 data 4) 1))
    (store u64 data 8 -1)
    (setf (load u8 data 1) #x55)
    XDP_TX))
