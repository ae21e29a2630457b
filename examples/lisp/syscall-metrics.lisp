;; syscall-metrics.lisp: system calls by name, and how long they take, served to Prometheus by
;; `whistler serve syscall-metrics.lisp` (or by its compiled object, on any host).
(deftracepoint raw-syscalls/sys-enter id)

(defmap syscall-counts :type :percpu-hash :key-type u32 :value-type u64 :max-entries 1024)
(defmap syscall-start :type :hash :key-type u32 :value-type u64 :max-entries 16384)
(defmap syscall-latency :type :percpu-array :key-type u32 :value-type u64 :max-entries 64)

(defmetric syscalls :counter :map syscall-counts
  :help "System calls made, by name."
  :labels ((syscall :syscall)))
(defmetric syscall-duration-seconds :histogram :map syscall-latency :buckets :log2
  :unit :nanoseconds :help "Time from entering a system call to leaving it.")

(defprog on-enter (:type :tracepoint :section "tracepoint/raw_syscalls/sys_enter")
  (incf (getmap syscall-counts (cast u32 (tp-id))))
  (setf (getmap syscall-start (cast u32 (get-current-pid-tgid))) (ktime-get-ns))
  0)

(defprog on-exit (:type :tracepoint :section "tracepoint/raw_syscalls/sys_exit")
  (let* ((thread (cast u32 (get-current-pid-tgid)))
         (start (getmap syscall-start thread)))
    (when (/= start 0)
      (incf (getmap syscall-latency (log2 (- (ktime-get-ns) start))))
      (remmap syscall-start thread)))
  0)
