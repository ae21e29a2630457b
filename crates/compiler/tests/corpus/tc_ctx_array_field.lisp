;; test: prog=cls expect=3
;; __sk_buff cb[] is an array field: (ctx cb INDEX)
(defprog cls (:type :tc)
  (setf (ctx cb 2) 1)
  (setf (ctx cb 4) 2)
  (+ (ctx cb 2) (ctx cb 4) (ctx cb 0)))
