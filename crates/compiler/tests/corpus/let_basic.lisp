;; test: prog=p expect=42
;; let basic
(defprog p (:type :xdp)
  (let ((a 10) (b 32)) (+ a b)))
