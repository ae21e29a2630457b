;;; Run-queue latency as a log2 histogram of microseconds, in the spirit of Whistler's runqlat
;;; port: sched_switch records when a preempted task went back on the queue and how long the
;;; next one waited. The tracepoint's fields come from tracefs when it can be read at compile
;;; time (probed in `eval-when`), else from the offsets of x86-64 Linux 6.x.
;; run:
;;; The workload keeps four busy loops on the machine's CPUs for longer than a time slice, so
;;; the scheduler preempts one (a task switched out while running is what gets queued).
;; workload: for j in 1 2 3 4; do timeout 0.3 sh -c 'while :; do :; done' & done; wait
;; expect-map: latency-log2 * >= 1

(defmap queued-at :type :hash :key-size 4 :value-size 8 :max-entries 10240)
(defmap latency-log2 :type :array :key-size 4 :value-size 8 :max-entries 26)

(defconstant +task-running+ 0)

(eval-when (:compile-toplevel :load-toplevel :execute)
  (if (probe-file "/sys/kernel/tracing/events/sched/sched_switch/format")
      (deftracepoint sched/sched-switch prev-pid prev-state next-pid)
      (progn
        (defmacro tp-prev-pid () '(ctx-load u32 24))
        (defmacro tp-prev-state () '(ctx-load u64 32))
        (defmacro tp-next-pid () '(ctx-load u32 56)))))

(defprog switch-latency (:type :tracepoint
                         :section "tracepoint/sched/sched_switch"
                         :license "GPL")
  (let ((prev (tp-prev-pid)) (next (tp-next-pid)))
    (when (and prev (= (tp-prev-state) +task-running+))
      (setf (getmap queued-at prev) (ktime-get-ns)))
    (when-let ((since (map-lookup queued-at next)))
      (let ((slot (log2 (/ (- (ktime-get-ns) (load u64 since 0)) 1000))))
        (when (> slot 25)
          (setf slot 25))
        (when-let ((count (map-lookup latency-log2 slot)))
          (atomic-add count 0 1)))
      (remmap queued-at next)))
  0)
