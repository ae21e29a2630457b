;; test: prog=p expect=77
;; longest-prefix match: insert 10.0.0.0/8 and look up 10.1.2.3/32
(defstruct lpm-key (prefixlen u32) (addr u32))
(defmap routes :type :lpm-trie :key-type lpm-key :value-size 8 :max-entries 16 :map-flags BPF_F_NO_PREALLOC)
(defprog p (:type :xdp)
  (let ((k (make-lpm-key)) (v (make-lpm-key)))
    (setf (lpm-key-prefixlen k) 8 (lpm-key-addr k) #x0000000a)
    (store u64 v 0 77)
    (map-update-ptr routes k v BPF_ANY)
    (setf (lpm-key-prefixlen k) 32 (lpm-key-addr k) #x0302010a)
    (let ((r (map-lookup-ptr routes k)))
      (if r (load u64 r 0) 0))))
