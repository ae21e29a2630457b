;; limits: steps=100000 depth=100
;; Runaway code becomes an error instead of hanging or overflowing the stack.
(defun forever () (loop))
(forever)
(defun deep (n) (+ 1 (deep (1+ n))))
(deep 0)
(defmacro expand-forever (x) `(expand-forever ,x))
(expand-forever 1)
(print (handler-case (loop) (error () 'not-caught)))
(print 'limits-reset-per-form)
(defun fine (n) (if (= n 0) 0 (+ 1 (fine (1- n)))))
(print (fine 50))
