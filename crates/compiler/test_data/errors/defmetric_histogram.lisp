;; defmetric histograms: buckets missing or misplaced, a struct key without `:bucket`.
(defstruct slot (cpu u32) (index u32))
(defmap lat-hist :type :array :key-size 4 :value-size 8 :max-entries 64)
(defmap cpu-hist :type :hash :key-type slot :value-type u64 :max-entries 64)
(defmetric latency :histogram :map lat-hist)
(defmetric latency-linear :histogram :map lat-hist :buckets (:linear 0))
(defmetric per-cpu-latency :histogram :map cpu-hist :buckets :log2)
(defmetric calls :counter :map lat-hist :buckets :log2 :bucket index)
(defmetric buckets :histogram :map cpu-hist :buckets :cubic :bucket idx)
(defprog count (:type :tracepoint :section "tracepoint/raw_syscalls/sys_enter")
  (incf (getmap lat-hist 0))
  0)
(defmetric taken :histogram :map cpu-hist :buckets :log2 :bucket index :per-cpu :cpu
  :labels ((le :integer :field cpu) (cpu :integer) (core :integer :field cpu) (core :hex :field cpu)))
