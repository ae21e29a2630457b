;; map-for-each: the callback follows the program, reached through ld_imm64 BPF_PSEUDO_FUNC;
;; its entry stores the key and value pointers into the caller's record.
(defmap totals :type :hash :key-size 4 :value-size 8 :max-entries 16)
(defprog p (:type :xdp)
  (let ((sum (struct-alloc 8)))
    (map-for-each (k v totals acc sum)
      (atomic-add acc 0 (load u64 v 0)))
    (load u64 sum 0)))
