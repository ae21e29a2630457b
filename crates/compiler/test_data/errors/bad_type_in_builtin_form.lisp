;; a built-in form with a bad argument reports that mistake once, never "unknown form"
(defprog p (:type :xdp)
  (let ((ptr (xdp-data)))
    (load u7 ptr 0)))
