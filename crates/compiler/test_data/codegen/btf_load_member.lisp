;;; `btf-load-member`: members of the structs an fentry program's arguments point to, read
;;; with one load each through the argument (no probe-read-kernel), the offset relocated
;;; (CO-RE); a pointer member read that way is loaded from in turn.
(defmap opens :type :array :key-size 4 :value-size 8 :max-entries 2)
(defprog vfs-open (:type :fentry :section "fentry/vfs_open" :license "GPL")
  (setf (getmap opens 0)
        (btf-load-member (ctx u64 8) (:struct "file" 184) "f_flags" 40 (:int 4 nil))
        (getmap opens 1)
        (btf-load-member (btf-load-member (ctx u64 0) (:struct "path" 16) "dentry" 8 (:ptr))
                         (:struct "dentry" 192) "d_flags" 0 (:int 4 nil)))
  0)
