;; test: prog=p expect=52105
(defmap m :type :array :key-size 4 :value-size 8 :max-entries 2)
(defprog p (:type :xdp)
  (setf (getmap m 1) 5)
  (+ (when-let ((a (map-lookup m 1)) (b u64 (map-lookup m 0))) (+ 100 (load u64 a 0) (load u64 b 0)))
     (if-let (p (map-lookup m 7)) 1000 2000)
     (if-let ((q (map-lookup m 1))) (* 10000 (load u64 q 0)) 3)
     (when-let (z (map-lookup m 9)) 77)))
