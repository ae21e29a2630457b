;;; `ctx-load-member`: members of a tracepoint's record read with one load from the context,
;;; its offset relocated (CO-RE); a signed member sign-extended by two relocated shifts.
(defmap fields :type :array :key-size 4 :value-size 8 :max-entries 3)
(defprog record-fields (:type :tracepoint :section "tracepoint/task/task_newtask"
                        :license "GPL")
  (setf (getmap fields 0)
        (ctx-load-member (:struct "trace_event_raw_task_newtask" 48) "clone_flags" 32 (:int 8 nil))
        (getmap fields 1)
        (ctx-load-member (:struct "trace_event_raw_task_newtask" 48) "oom_score_adj" 40 (:int 2 t))
        (getmap fields 2)
        (ctx-load-member (:struct "trace_event_raw_task_newtask" 48) "pid" 8 (:enum "pid_kind" 4 nil)))
  0)
