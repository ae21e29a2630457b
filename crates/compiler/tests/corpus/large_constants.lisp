;; test: prog=p expect=3
;; 64-bit constants need ld_imm64
(defprog p (:type :xdp)
  (let ((a #x123456789abcdef0) (b -1) (c #xffffffffffffffff))
    (+ (if (= (>> a 32) #x12345678) 1 0)
       (if (= b c) 2 0))))
