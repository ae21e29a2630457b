;;; exec-trace.lisp on the sched_process_exec tracepoint (kernels without kprobes): one ring
;;; buffer record per exec, decoded and printed, until Ctrl-C.
;;;   whistler run exec-trace-tp.lisp [-- SECONDS]

(asdf:load-system "whistler/loader")
(in-package #:whistler-loader-user)

(whistler:defstruct call-event
  (pid u32)
  (ts  u64))

(defun run (seconds)
  (with-bpf-session ()
    (bpf:map events :type :ringbuf :max-entries 4096)

    (bpf:prog trace-exec (:type :tracepoint
                           :section "tracepoint/sched/sched_process_exec"
                           :license "GPL")
      (with-ringbuf (ev events (sizeof call-event))
        (setf (call-event-pid ev) (cast u32 (ash (get-current-pid-tgid) -32))
              (call-event-ts ev)  (ktime-get-ns)))
      0)

    (bpf:attach trace-exec "sched/sched_process_exec")
    (format t "tracing execs~%")

    (with-decoding-ring-consumer (consumer
                                  (bpf-session-map 'events)
                                  #'decode-call-event
                                  (lambda (ev)
                                    (format t "exec pid=~d ts=~d~%"
                                            (call-event-record-pid ev)
                                            (call-event-record-ts ev))))
      (handler-case
          (if seconds
              (loop repeat (* seconds 10) do (ring-poll consumer :timeout-ms 100))
              (loop (ring-poll consumer :timeout-ms 1000)))
        (sb-sys:interactive-interrupt ()
          (format t "~&Detaching.~%"))))))

(run (and *args* (parse-integer (first *args*))))
