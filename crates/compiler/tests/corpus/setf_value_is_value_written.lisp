;; test: prog=p expect=5382
;; map: m key=01000000 value=0700000000000000
;; setf's value is the value written (the last pair's), as in Common Lisp, for struct fields
;; (not truncated), map entries and stores
(defmap m :type :hash :key-size 4 :value-size 8 :max-entries 8)
(defstruct rec (a u8) (b u16))
(defprog p (:type :xdp)
  (let ((r (make-rec))
        (w (make-rec)))
    (+ (setf (rec-a r) #x1ff)
       (setf (getmap m 1) 7)
       (setf (rec-b w) 9 (rec-a w) 4000)
       (rec-a r)
       (- 5382 511 7 4000 255))))
