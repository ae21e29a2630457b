;; load-only
;; probe-read-kernel into a stack struct; (ctx TYPE OFFSET) on the tracepoint record
(defstruct buf (data (array u8 32)))
(defmap out :type :percpu-array :key-size 4 :value-type buf :max-entries 1)
(defprog tp (:type :tracepoint :section "tracepoint/syscalls/sys_enter_openat")
  (let ((b (make-buf)))
    (probe-read-user-str (buf-data-ptr b) 32 (ctx u64 24))
    (probe-read-kernel (buf-data-ptr b) 8 (get-current-task))
    (map-update-ptr out (make-buf) b BPF_ANY)
    0))
