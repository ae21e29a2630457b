;; Sampled events per CPU from a perf_event program, weighted by the sample period.
(defmap sampled :type :percpu-array :key-size 4 :value-size 8 :max-entries 1)
(defprog on-sample (:type :perf-event :section "perf_event" :license "GPL")
  (incf (getmap sampled 0) (ctx sample-period))
  0)
