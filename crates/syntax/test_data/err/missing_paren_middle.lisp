(defun first-one (x)
  (+ x 1)

(defun second-one (y)
  (* y 2))

(defun third-one (z) z)
