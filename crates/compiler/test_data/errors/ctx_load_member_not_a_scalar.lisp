;;; `ctx-load-member` reads what one load reads: not an array, not a member past 32 KiB, and
;;; only the arguments `deftracepoint` writes.
(defprog record-fields (:type :tracepoint :section "tracepoint/task/task_newtask"
                        :license "GPL")
  (+ (ctx-load-member (:struct "trace_event_raw_task_newtask" 48) "comm" 12
                      (:array (:int 1 nil) 16))
     (ctx-load-member (:struct "trace_event_raw_task_newtask" 48) "pid" 40000 (:int 4 t))
     (ctx-load-member "trace_event_raw_task_newtask" "pid" 8 (:int 4 t))))
