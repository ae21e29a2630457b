;; Executions per process: a hash map entry per tgid, inserted on first sight.
(defmap execs :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defprog count-execs (:type :tracepoint :section "tracepoint/sched/sched_process_exec" :license "GPL")
  (incf (getmap execs (cast u32 (>> (get-current-pid-tgid) 32))))
  0)
