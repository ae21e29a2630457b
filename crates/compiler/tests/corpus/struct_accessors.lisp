;; test: prog=p expect=4660
;; make-NAME zeroes, setf writers truncate to the field width, readers read back
(defstruct rec (a u8) (b u16) (c u32) (d u64))
(defprog p (:type :xdp)
  (let ((r (make-rec)))
    (setf (rec-a r) #x1ff
          (rec-b r) #x10034
          (rec-d r) 4000)
    (+ (rec-a r) (rec-b r) (rec-c r) (rec-d r) (- 4660 4000 255 52))))
