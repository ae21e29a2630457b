;; test: prog=p expect=2
;; string literals become NUL-terminated stack copies (trace-printk formats); ringbuf helpers'
;; trailing flags may be omitted
(defstruct ev (n u64))
(defmap rb :type :ringbuf :max-entries 4096)
(defprog p (:type :xdp)
  (trace-printk "n=%d\n" 6 42)
  (let ((e (ringbuf-reserve rb (sizeof ev))))
    (when e
      (setf (ev-n e) 1)
      (ringbuf-submit e)))
  (if (= (load u8 "AB" 1) 66) XDP_PASS XDP_DROP))
