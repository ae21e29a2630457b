;;; Traces a workload: reads the system's load from /proc, runs a command with run-program
;;; while counting every exec on the sched_process_exec tracepoint, and prints a timestamped
;;; report (with the workload's own output).
;;;   whistler run trace-workload.lisp [-- COMMAND ARGS...]

(asdf:load-system "whistler/loader")
(in-package #:whistler-loader-user)

(whistler:defstruct exec-event
  (pid u32))

(defun timestamp ()
  (multiple-value-bind (sec min hour day month year) (decode-universal-time (get-universal-time) 0)
    (format nil "~4,'0d-~2,'0d-~2,'0dT~2,'0d:~2,'0d:~2,'0dZ" year month day hour min sec)))

(defun load-average ()
  (with-open-file (in "/proc/loadavg" :if-does-not-exist nil)
    (if in
        (let ((line (read-line in nil "")))
          (with-input-from-string (s line) (read s)))
        0)))

(defun run-traced (command)
  (with-bpf-session ()
    (bpf:map events :type :ringbuf :max-entries 4096)
    (bpf:prog on-exec (:type :tracepoint
                       :section "tracepoint/sched/sched_process_exec"
                       :license "GPL")
      (with-ringbuf (ev events (sizeof exec-event))
        (setf (exec-event-pid ev) (cast u32 (ash (get-current-pid-tgid) -32))))
      0)
    (bpf:attach on-exec "sched/sched_process_exec")
    (let ((pids (make-hash-table))
          (started (get-internal-real-time))
          (output (make-string-output-stream)))
      (with-decoding-ring-consumer (consumer (bpf-session-map 'events) #'decode-exec-event
                                    (lambda (ev) (setf (gethash (exec-event-record-pid ev) pids) t)))
        (let ((process (sb-ext:run-program (first command) (rest command)
                                           :search t :output output :wait nil)))
          (loop while (sb-ext:process-alive-p process)
                do (ring-poll consumer :timeout-ms 50))
          (sb-ext:process-wait process)
          (ring-poll consumer :timeout-ms 100)
          (let ((seconds (/ (- (get-internal-real-time) started)
                            internal-time-units-per-second)))
            (format t "~a load ~,2f~%" (timestamp) (load-average))
            (format t "~a ran ~{~a~^ ~} in ~,3fs, exit code ~d~%"
                    (timestamp) command (float seconds) (sb-ext:process-exit-code process))
            (format t "~a execs traced: ~d~%" (timestamp) (hash-table-count pids))
            (with-input-from-string (lines (get-output-stream-string output))
              (loop for line = (read-line lines nil)
                    while line
                    do (format t "~a output: ~a~%" (timestamp) line)))))))))

(run-traced (or *args* (list "/bin/sh" "-c" "for i in 1 2 3; do /bin/true; done; echo done")))
