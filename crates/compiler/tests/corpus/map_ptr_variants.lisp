;; test: prog=p expect=2
;; map: m key=0102030405060708090a0b0c value=2a00000000000000
;; the -ptr variants take pointers to keys and values built on the stack
(defstruct key (a u32) (b u32) (c u32))
(defstruct val (n u64))
(defmap m :type :hash :key-type key :value-type val :max-entries 8)
(defprog p (:type :xdp)
  (let ((k (make-key)) (v (make-val)))
    (setf (key-a k) #x04030201 (key-b k) #x08070605 (key-c k) #x0c0b0a09)
    (setf (val-n v) 41)
    (map-update-ptr m k v BPF_ANY)
    (when-let ((p (map-lookup-ptr m k)))
      (setf (val-n p) (+ (val-n p) 1)))
    (map-delete-ptr m (make-key))
    XDP_PASS))
