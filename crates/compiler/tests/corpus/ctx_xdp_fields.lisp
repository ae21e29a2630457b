;; test: prog=p data=00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=64
;; (ctx FIELD) reads xdp_md; data and data-end are packet pointers
(defprog p (:type :xdp)
  (let ((data (ctx data)) (data-end (ctx data-end)))
    (+ (- data-end data) (* 0 (ctx ingress-ifindex)) (* 0 (ctx rx-queue-index)))))
