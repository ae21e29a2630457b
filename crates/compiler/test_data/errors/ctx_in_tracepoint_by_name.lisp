(defprog p (:type :tracepoint)
  (ctx pid))
