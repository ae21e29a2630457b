; plain and nested lists
()
(a)
(a b c)
((a b) (c (d (e))))
(defun f (x) (+ x 1))
