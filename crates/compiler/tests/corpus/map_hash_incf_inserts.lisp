;; test: prog=count expect=2
;; test: prog=count expect=2
;; test: prog=count expect=2
;; map: hits key=07000000 value=0f00000000000000
;; incf on a hash entry that does not exist yet inserts the delta (BPF_NOEXIST)
(defmap hits :type :hash :key-size 4 :value-size 8 :max-entries 16)
(defprog count (:type :xdp)
  (incf (getmap hits 7) 5)
  XDP_PASS)
