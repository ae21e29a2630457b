;; test: prog=p expect=12
;; let parallel
(defprog p (:type :xdp)
  (let ((a 1)) (let ((a 10) (b (+ a 1))) (+ a b))))
