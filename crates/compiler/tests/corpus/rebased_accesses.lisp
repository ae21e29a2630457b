;; test: prog=chain data=050102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f expect=775 out=0517020304
;; test: prog=chain data=05010203040506070809101112131415 expect=1
;; test: prog=var data=050102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f expect=8 out=05010203040506070805060708
;; test: prog=var data=0f0102030405060708090a0b0c0d0e0f expect=1
;; test: prog=scalar_index data=070102030405060708090a0b0c0d0e0f expect=1
;; test: prog=scalar_index data=020102030405060708090a0b0c0d0e0f expect=110
;; accesses after a bounds check go through the checked pointer (rebased_accesses): a second
;; check on the same base, a header at a variable offset; a scalar whose sum with a constant
;; is kept is no pointer and stays
(defprog chain (:type :xdp)
  (let* ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 8) data-end) (return 0))
    (let ((first (load u8 data 0)))
      (when (> (+ data 24) data-end) (return 1))
      (store u8 data 1 (load u8 data 23))
      (+ first (load u16 data 2)))))

(defprog var (:type :xdp)
  (let* ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 1) data-end) (return 0))
    (let ((hdr (+ data (logand (load u8 data 0) 15))))
      (when (> (+ hdr 8) data-end) (return 1))
      (store u32 hdr 4 (load u32 hdr 0))
      (load u8 hdr 7))))

(defprog scalar-index (:type :xdp)
  (let* ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (let* ((i (logand (load u8 data 0) 7))
           (j (+ i 4))
           (at (+ data i)))
      (when (> (+ at 9) data-end) (return 2))
      (if (> j 10) 1 (+ 100 (load u8 at 8))))))
