;; test: prog=p expect=2
;; test: prog=p expect=2
;; map: m key=00000000 value=0c00000008000000
(defmap m :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (when-let ((ptr (map-lookup m 0)))
    (atomic-add ptr 0 6 u32)
    (atomic-add ptr 4 7 u32))
  (when-let ((ptr (map-lookup m 0)))
    (store u32 ptr 4 (- (load u32 ptr 4) 3)))
  XDP_PASS)
