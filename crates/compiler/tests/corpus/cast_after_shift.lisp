;; test: prog=p data=0807060504030201000000000000000000000000000000000000000000000000 expect=1
;; a cast to u32 after a logical shift right by 32 needs no extension; after a shift by 8 it
;; still truncates
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 8) data-end) (return XDP_ABORTED))
    (let ((x (load u64 data 0)))
      (if (and (= (cast u32 (>> x 32)) #x01020304)
               (= (cast u32 (>> x 8)) #x04050607)
               (= (cast u32 (>> (logand x #xffffffff) 4)) #x00506070))
          1
          0))))
