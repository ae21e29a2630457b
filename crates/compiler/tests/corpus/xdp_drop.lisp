;; test: prog=p expect=1
;; xdp drop
(defprog p (:type :xdp)
  XDP_DROP)
