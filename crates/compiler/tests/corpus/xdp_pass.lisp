;; test: prog=p expect=2
;; xdp pass
(defprog p (:type :xdp)
  XDP_PASS)
