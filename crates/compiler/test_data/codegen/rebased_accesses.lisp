;; Accesses after a bounds check go through the checked pointer: `r2 += 8` with no copy,
;; loads at negative offsets, the second check built on the first.
(defprog chain (:type :xdp)
  (let* ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 8) data-end) (return 0))
    (let ((first (load u8 data 0)))
      (when (> (+ data 24) data-end) (return 1))
      (store u8 data 1 (load u8 data 23))
      (+ first (load u16 data 2)))))

