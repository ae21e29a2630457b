;;; `deftracepoint` on sched_process_fork: tests/stdlib.rs supplies the format text.

(deftracepoint sched/sched-process-fork parent-pid child-pid)

(defmap forks :type :hash :key-size 4 :value-size 8 :max-entries 64)

(defprog on-fork (:type :tracepoint :section "tracepoint/sched/sched_process_fork" :license "GPL")
  (incf-map forks (tp-parent-pid))
  (set-getmap! forks (tp-child-pid) 0)
  0)
