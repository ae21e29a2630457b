(defprog p (:type :tracepoint)
  (get-current-pid-tigd)
  0)
