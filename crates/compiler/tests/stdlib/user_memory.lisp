;;; Programs using `do-user-ptrs` and `do-user-array`, run by tests/stdlib.rs as raw
;;; tracepoints whose two arguments are a user-space pointer and an element count.

(defmap tally :type :hash :key-size 4 :value-size 8 :max-entries 4)

(defstruct pair
  (a u32)
  (b u32))

(defprog sum-u32 (:type :raw-tracepoint :section "raw_tp/sys_enter" :license "GPL")
  ;; sum of element * (index + 1) over the u32 array
  (let ((sum 0))
    (do-user-array (v u32 (ctx-load u64 0) (ctx-load u64 8) 16 :index i)
      (setq sum (+ sum (* v (+ i 1)))))
    sum))

(defprog sum-pairs (:type :raw-tracepoint :section "raw_tp/sys_enter" :license "GPL")
  ;; sum of a * b over the array of pairs
  (let ((sum 0))
    (do-user-array (p pair (ctx-load u64 0) (ctx-load u64 8) 8)
      (setq sum (+ sum (* (pair-a p) (pair-b p)))))
    sum))

(defprog sum-ptrs (:type :raw-tracepoint :section "raw_tp/sys_enter" :license "GPL")
  ;; sum of the u32s the non-null pointers point to, plus 1000 per index visited
  (let ((sum 0)
        (cell (struct-alloc 8)))
    (do-user-ptrs (ptr (ctx-load u64 0) (ctx-load u64 8) 8 :index i)
      (probe-read-user cell 4 ptr)
      (setq sum (+ sum (load u32 cell 0) (* 1000 i))))
    sum))

(defprog counts (:type :raw-tracepoint :section "raw_tp/sys_enter" :license "GPL")
  ;; incf-map twice and set-getmap! once, then the entries' sum; key 3 is set and deleted
  (incf-map tally 1)
  (incf-map tally 1 41)
  (set-getmap! tally 2 100)
  (setmap tally 3 7)
  (delmap tally 3)
  (+ (getmap tally 1) (getmap tally 2) (getmap tally 3)))
