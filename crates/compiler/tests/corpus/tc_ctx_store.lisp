;; test: prog=cls expect=7
;; setf on a writable __sk_buff field (mark), read back
(defprog cls (:type :tc)
  (setf (ctx mark) 7)
  (ctx mark))
