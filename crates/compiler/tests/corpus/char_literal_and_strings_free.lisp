;; test: prog=p expect=97
(defprog p (:type :xdp)
  #\a)
