;; load-only
;; kprobes load on this kernel but cannot be test-run; pt-regs accessors read struct pt_regs
(defmap args :type :hash :key-size 4 :value-size 8 :max-entries 64)
(defprog trace-open (:type :kprobe :section "kprobe/do_sys_openat2")
  (let ((pid (cast u32 (>> (get-current-pid-tgid) 32))))
    (setf (getmap args pid) (+ (pt-regs-parm1) (pt-regs-parm2) (pt-regs-parm3)
                               (pt-regs-parm4) (pt-regs-parm5) (pt-regs-parm6) (pt-regs-ret)
                               (ctx di)))
    0))
