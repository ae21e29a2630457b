;; load-only
;; perf-event-output with the context pointer and BPF_F_CURRENT_CPU
(defstruct sample (pid u32) (pad u32))
(defmap perf :type :perf-event-array :max-entries 4)
(defprog tp (:type :tracepoint :section "tracepoint/sched/sched_switch")
  (let ((s (make-sample)))
    (setf (sample-pid s) (cast u32 (get-current-pid-tgid)))
    (perf-event-output ctx perf BPF_F_CURRENT_CPU s (sizeof sample))
    0))
