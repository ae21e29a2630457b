;; Unlinks per directory descriptor (do_unlinkat's first argument) from an fentry program.
(defmap unlinks :type :hash :key-size 4 :value-size 8 :max-entries 256)
(defprog count-unlinks (:type :fentry :section "fentry/do_unlinkat" :license "GPL")
  (incf (getmap unlinks (cast u32 (ctx u64 0))))
  0)
