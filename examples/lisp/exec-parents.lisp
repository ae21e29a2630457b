;;; Every exec with its parent process and command name, read from the kernel's task_struct.
;;; `import-kernel-struct` takes the field offsets from this kernel's BTF
;;; (/sys/kernel/btf/vmlinux) when the file is compiled; the accessors read kernel memory with
;;; probe-read-kernel. Progress goes to *error-output*, records to standard output.
;;;   whistler run exec-parents.lisp [-- SECONDS]

(asdf:load-system "whistler/loader")
(in-package #:whistler-loader-user)

(import-kernel-struct task-struct tgid real-parent comm)

(whistler:defstruct exec-event
  (pid  u32)
  (ppid u32)
  (comm (array u8 16)))

(defun text-of (bytes)
  "The NUL-terminated text in BYTES."
  (map 'string #'code-char (subseq bytes 0 (or (position 0 bytes) (length bytes)))))

(defun run (seconds)
  (with-bpf-session ()
    (bpf:map events :type :ringbuf :max-entries 16384)

    (bpf:prog on-exec (:type :tracepoint
                        :section "tracepoint/sched/sched_process_exec"
                        :license "GPL")
      (let* ((task   (get-current-task))
             (parent (task-struct-real-parent task)))
        (with-ringbuf (ev events (sizeof exec-event))
          (setf (exec-event-pid ev)  (task-struct-tgid task)
                (exec-event-ppid ev) (task-struct-tgid parent))
          (probe-read-kernel (exec-event-comm-ptr ev) 16 (task-struct-comm task))))
      0)

    (bpf:attach on-exec "sched/sched_process_exec")
    (format *error-output* "task_struct is ~d bytes here~%" +task-struct-size+)
    (format t "tracing execs~%")
    (with-decoding-ring-consumer (consumer (bpf-session-map 'events) #'decode-exec-event
                                  (lambda (ev)
                                    (format t "exec pid=~d ppid=~d comm=~a~%"
                                            (exec-event-record-pid ev)
                                            (exec-event-record-ppid ev)
                                            (text-of (exec-event-record-comm ev)))))
      (handler-case
          (loop repeat (* seconds 10) do (ring-poll consumer :timeout-ms 100))
        (sb-sys:interactive-interrupt ()
          (format *error-output* "~&stopped~%"))))))

(run (if *args* (parse-integer (first *args*)) 10))
