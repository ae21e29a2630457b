;; test: prog=p data=0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f200000000000000000000000000000000000000000000000000000000000000000 expect=392
;; more live values than callee-saved registers across calls: spills and reloads
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (let ((v0 (+ (load u8 data 0) 0)) (v1 (+ (load u8 data 1) 1)) (v2 (+ (load u8 data 2) 2)) (v3 (+ (load u8 data 3) 3)) (v4 (+ (load u8 data 4) 4)) (v5 (+ (load u8 data 5) 5)) (v6 (+ (load u8 data 6) 6)) (v7 (+ (load u8 data 7) 7)) (v8 (+ (load u8 data 8) 8)) (v9 (+ (load u8 data 9) 9)) (v10 (+ (load u8 data 10) 10)) (v11 (+ (load u8 data 11) 11)) (v12 (+ (load u8 data 12) 12)) (v13 (+ (load u8 data 13) 13)))
      (get-prandom-u32)
      (let ((s1 (+ v0 v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 v11 v12 v13)))
        (get-prandom-u32)
        (+ s1 v0 v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 v11 v12 v13)))))
