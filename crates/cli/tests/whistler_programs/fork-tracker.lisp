;;; Forks as ring-buffer records (parent and child pid), in the spirit of Whistler's
;;; fork-tracker example: a session that runs a workload with run-program and reports the
;;; forks whose parent was the workload's shell.
;; run:
;; expect: workload forks: 3
;; expect: every child pid differs from its parent: T

(asdf:load-system "whistler/loader")
(in-package #:whistler-loader-user)

(whistler:defstruct fork-event
  (parent u32)
  (child u32))

(deftracepoint sched/sched-process-fork parent-pid child-pid)

(with-bpf-session ()
  (bpf:map forks :type :ringbuf :max-entries 16384)
  (bpf:prog on-fork (:type :tracepoint
                     :section "tracepoint/sched/sched_process_fork"
                     :license "GPL")
    (with-ringbuf (ev forks (sizeof fork-event))
      (setf (fork-event-parent ev) (tp-parent-pid)
            (fork-event-child ev) (tp-child-pid)))
    0)
  (bpf:attach on-fork "sched/sched_process_fork")
  (let ((events '()))
    (with-decoding-ring-consumer (consumer (bpf-session-map 'forks) #'decode-fork-event
                                  (lambda (ev) (push ev events)))
      (let ((shell (sb-ext:run-program "/bin/sh" '("-c" "/bin/true; /bin/true; /bin/true; exit 0")
                                       :wait nil)))
        (sb-ext:process-wait shell)
        (ring-poll consumer :timeout-ms 200)
        (let ((mine (remove (sb-ext:process-pid shell) events
                            :key #'fork-event-record-parent :test-not #'=)))
          (format t "workload forks: ~d~%" (length mine))
          (format t "every child pid differs from its parent: ~a~%"
                  (every (lambda (ev) (/= (fork-event-record-child ev)
                                          (fork-event-record-parent ev)))
                         events)))))))
