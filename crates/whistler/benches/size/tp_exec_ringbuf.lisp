;; One ring-buffer record per exec: process id, user id and command name.
(defstruct exec-event (pid u32) (uid u32) (comm (array u8 16)))
(defmap execs :type :ringbuf :max-entries 4096)
(defprog report-execs (:type :tracepoint :section "tracepoint/sched/sched_process_exec"
                       :license "GPL")
  (with-ringbuf (event execs (sizeof exec-event))
    (setf (exec-event-pid event) (cast u32 (>> (get-current-pid-tgid) 32))
          (exec-event-uid event) (cast u32 (get-current-uid-gid)))
    (get-current-comm (exec-event-comm-ptr event) 16))
  0)
