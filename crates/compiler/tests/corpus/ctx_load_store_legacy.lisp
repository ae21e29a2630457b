;; test: prog=cls expect=9
;; ctx-load / ctx-store and (ctx TYPE OFFSET) with explicit offsets (mark is at 8)
(defprog cls (:type :tc)
  (ctx-store u32 8 4)
  (setf (ctx u32 8) (+ (ctx-load u32 8) 5))
  (ctx u32 8))
