;; read-sizes.lisp: how many bytes read(2) calls return on this machine, drawn as a log2
;; histogram when `whistler run read-sizes.lisp --duration 5` stops (the map's name ends in
;; `hist`; per-CPU counts are summed).
(deftracepoint syscalls/sys-exit-read ret)

(defmap read-bytes-hist :type :percpu-array :key-type u32 :value-type u64 :max-entries 64)

(defprog on-read-exit (:type :tracepoint :section "tracepoint/syscalls/sys_exit_read")
  (let ((ret (tp-ret)))
    (when (s> ret 0)
      (incf (getmap read-bytes-hist (log2 ret)))))
  0)
