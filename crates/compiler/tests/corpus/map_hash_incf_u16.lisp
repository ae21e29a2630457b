;; test: prog=p expect=2
;; test: prog=p expect=2
;; test: prog=p expect=2
;; map: m key=01 value=0600
;; incf on 2-byte values (not atomic: read, add, write) with a 1-byte key
(defmap m :type :hash :key-size 1 :value-size 2 :max-entries 4)
(defprog p (:type :xdp)
  (incf (getmap m 1) 2)
  XDP_PASS)
