;; System calls per number from the raw_syscalls/sys_enter tracepoint (the id is the long at
;; offset 8), counted in a per-CPU hash.
(defmap syscalls :type :percpu-hash :key-size 4 :value-size 8 :max-entries 512)
(defprog count-syscalls (:type :tracepoint :section "tracepoint/raw_syscalls/sys_enter"
                         :license "GPL")
  (incf (getmap syscalls (cast u32 (ctx u64 8))))
  0)
