;; A log2 histogram of a probed function's first argument (allocation sizes, say) from a uprobe.
(defmap size-buckets :type :array :key-size 4 :value-size 8 :max-entries 64)
(defprog size-hist (:type :uprobe :section "uprobe" :license "GPL")
  (incf (getmap size-buckets (log2 (pt-regs-parm1))))
  0)
