;; test: prog=cls expect=3
;; a context pointer moved by a constant before a load is folded into the load's offset
;; (the verifier rejects dereferencing a modified context pointer)
(defprog cls (:type :tc)
  (setf (ctx mark) 3)
  (load u32 (+ (ctx-ptr) 8) 0))
