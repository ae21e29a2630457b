;; File opens seen by the file_open LSM hook, per CPU; an earlier hook's refusal (its return
;; value, the hook's last argument) is passed on.
(defmap checked-opens :type :percpu-array :key-size 4 :value-size 8 :max-entries 1)
(defprog audit-open (:type :lsm :section "lsm/file_open" :license "GPL")
  (incf (getmap checked-opens 0))
  (cast s32 (ctx u64 8)))
