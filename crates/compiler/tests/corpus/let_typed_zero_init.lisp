;; test: prog=p expect=7
;; let typed zero init
(defprog p (:type :xdp)
  (let ((v u32)) (+ v 7)))
