;; test: prog=p expect=2
;; test: prog=p expect=2
;; map: m key=00000000 value=0600000000000000
;; decf on a map entry adds the negated delta; setq assigns variables
(defmap m :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (let ((step 0))
    (setq step 5)
    (incf (getmap m 0) (+ step 5))
    (decf (getmap m 0) 7)
    XDP_PASS))
