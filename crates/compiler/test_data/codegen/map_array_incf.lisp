;; test: prog=count expect=2
;; test: prog=count expect=2
;; test: prog=count expect=2
;; map: pkt_count key=00000000 value=0300000000000000
;; the classic packet counter: incf on an array entry (atomic add, the entry always exists)
(defmap pkt-count :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog count (:type :xdp)
  (incf (getmap pkt-count 0))
  XDP_PASS)
