;; test: prog=p expect=21
;; let star
(defprog p (:type :xdp)
  (let* ((a 10) (b (+ a 1))) (+ a b)))
