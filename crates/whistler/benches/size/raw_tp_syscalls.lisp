;; System calls per number from the sys_enter raw tracepoint (args[1] is the number), counted
;; in an array; numbers past its end are not counted.
(defmap syscall-counts :type :array :key-size 4 :value-size 8 :max-entries 512)
(defprog raw-syscalls (:type :raw-tracepoint :section "raw_tracepoint/sys_enter" :license "GPL")
  (let ((id (ctx u64 8)))
    (when (< id 512)
      (incf (getmap syscall-counts id))))
  0)
