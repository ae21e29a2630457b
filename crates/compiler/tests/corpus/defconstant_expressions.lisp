;; test: prog=p expect=4106
(defconstant +base+ 10)
(defconstant +size+ (* 4 +base+))
(defconstant +mask+ (logior (ash 1 12) (- +size+ 30)))
(defmap m :type :array :key-size 4 :value-size 8 :max-entries (+ +base+ 1))
(defprog p (:type :xdp)
  (+ +mask+ 0))
