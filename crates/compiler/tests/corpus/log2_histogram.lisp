;; test: prog=p data=04000000000000000000000000000000 expect=10
;; test: prog=p data=00010000000000000000000000000000 expect=0
;; map: hist key=0a000000 value=0100000000000000
;; map: hist key=00000000 value=0100000000000000
;; a log2 histogram: a 64-iteration loop carrying two values, then a bounded map index
(defmap hist :type :array :key-size 4 :value-size 8 :max-entries 64)
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 99))
    (let ((v (ntohs (load u16 data 0)))
          (slot u32 0))
      (dotimes (i 64)
        (when (> v 1)
          (setf v (>> v 1))
          (incf slot)))
      (incf (getmap hist slot))
      slot)))
