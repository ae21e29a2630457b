;; test: prog=p data=1234deadbeef01020304050607080000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=31
;; byte order
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (+ (if (= (ntohs (load u16 data 0)) #x1234) 1 0)
       (if (= (ntohl (load u32 data 2)) #xdeadbeef) 2 0)
       (if (= (htons #x0800) #x0008) 4 0)
       (if (= (ntohll (load u64 data 6)) #x0102030405060708) 8 0)
       (if (= (htonl 1) #x01000000) 16 0))))
