;; test: prog=p expect=7
;; or/and keep pointer values (first non-zero operand) usable afterwards
(defmap a :type :array :key-size 4 :value-size 8 :max-entries 1)
(defmap b :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (setf (getmap b 0) 7)
  (let ((ptr (or (map-lookup a 5) (map-lookup b 0))))
    (if ptr (load u64 ptr 0) 99)))
