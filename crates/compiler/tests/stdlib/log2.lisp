;;; `log2` on the first argument of a raw tracepoint (run by tests/stdlib.rs).

(defprog log2-arg (:type :raw-tracepoint :section "raw_tp/sys_enter" :license "GPL")
  (log2 (ctx-load u64 0)))
