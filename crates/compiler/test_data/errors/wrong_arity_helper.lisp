(defprog p (:type :tracepoint)
  (get-current-comm 16))
