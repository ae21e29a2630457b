;; test: prog=p expect=24
;; dotimes constant bound
(defconstant +n+ 12)
(defprog p (:type :xdp)
  (let ((s 0)) (dotimes (i +n+) (incf s 2)) s))
