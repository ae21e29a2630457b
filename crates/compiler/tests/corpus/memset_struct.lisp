;; test: prog=p expect=33751808
;; memset with a constant and a run-time byte; memcpy between stack structs
(defstruct blob (a u64) (b u32) (c u16) (d u8) (e u8))
(defprog p (:type :xdp)
  (let ((x (make-blob)) (y (make-blob)))
    (memset x 0 #xff 16)
    (memset x 8 (+ 1 1) 4)
    (memcpy y 0 x 0 16)
    (+ (blob-b y) (blob-c y) (blob-e y))))
