;; test: prog=p expect=1234
;; map: m key=02000000 value=0500000000000000
;; getmap returns 0 for a missing key and the value otherwise; remmap deletes
(defmap m :type :hash :key-size 4 :value-size 8 :max-entries 8)
(defprog p (:type :xdp)
  (let ((before (getmap m 1)))
    (setf (getmap m 1) 33)
    (let ((after (getmap m 1)))
      (remmap m 1)
      (setf (getmap m 2) 5)
      (+ (* 1000 (+ 1 before)) (* 6 after) (getmap m 1) 36))))
