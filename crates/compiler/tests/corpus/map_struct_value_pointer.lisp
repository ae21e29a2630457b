;; test: prog=p expect=17
;; getmap on a map with struct values returns a pointer (or 0)
(defstruct stats (packets u64) (bytes u64))
(defmap m :type :array :key-size 4 :value-type stats :max-entries 2)
(defprog p (:type :xdp)
  (let ((s (getmap m 1)))
    (if s
        (progn (setf (stats-packets s) 7 (stats-bytes s) 10)
               (+ (stats-packets s) (stats-bytes s)))
        99)))
