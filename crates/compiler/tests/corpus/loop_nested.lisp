;; test: prog=p expect=2016
;; nested dotimes: an unrolled loop inside a counted loop
(defprog p (:type :xdp)
  (let ((s 0))
    (dotimes (i 12)
      (dotimes (j 3)
        (incf s (+ (* i 10) j))))
    s))
