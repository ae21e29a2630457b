;; Files opened per process from a kprobe, in an LRU per-CPU hash.
(defmap opens :type :lru-percpu-hash :key-size 4 :value-size 8 :max-entries 1024)
(defprog count-opens (:type :kprobe :section "kprobe/do_sys_openat2" :license "GPL")
  (incf (getmap opens (cast u32 (>> (get-current-pid-tgid) 32))))
  0)
