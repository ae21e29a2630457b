;; Failed opens per error number from a kretprobe (a negative return value is -errno).
(defmap open-errors :type :hash :key-size 4 :value-size 8 :max-entries 256)
(defprog count-errors (:type :kretprobe :section "kretprobe/do_sys_openat2" :license "GPL")
  (let ((ret (pt-regs-ret)))
    (when (s< ret 0)
      (incf (getmap open-errors (cast u32 (- ret))))))
  0)
