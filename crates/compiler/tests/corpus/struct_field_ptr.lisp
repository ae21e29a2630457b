;; test: prog=p expect=2
;; map: m key=00000000 value=0000000061620000
;; NAME-FIELD-PTR gives the address of a field (here written through store)
(defstruct ev (pid u32) (tag (array u8 4)))
(defmap m :type :array :key-size 4 :value-type ev :max-entries 1)
(defprog p (:type :xdp)
  (let ((e (make-ev)))
    (store u8 (ev-tag-ptr e) 0 #x61)
    (store u8 (ev-tag-ptr e) 1 #x62)
    (map-update-ptr m (make-ev) e BPF_ANY)
    XDP_PASS))
