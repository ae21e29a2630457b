;; load-only
;; a tracepoint program sending events with fill-process-info
(defstruct exec-event (pid u32) (uid u32) (ts u64) (comm (array u8 16)))
(defmap events :type :ringbuf :max-entries 16384)
(defprog trace-exec (:type :tracepoint :section "tracepoint/sched/sched_process_exec")
  (with-ringbuf (e events (sizeof exec-event))
    (fill-process-info e
      :pid-field exec-event-pid
      :uid-field exec-event-uid
      :timestamp-field exec-event-ts
      :comm-field exec-event-comm-ptr
      :comm-size 16))
  0)
