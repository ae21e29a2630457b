;; test: prog=p expect=3
;; ringbuf-output copies a stack struct; reserve + discard releases a reservation
(defstruct ev (a u64) (b u64))
(defmap rb :type :ringbuf :max-entries 4096)
(defprog p (:type :xdp)
  (let ((e (make-ev)) (ok 0))
    (setf (ev-a e) 1 (ev-b e) 2)
    (when (= (ringbuf-output rb e (sizeof ev) 0) 0) (incf ok))
    (let ((r (ringbuf-reserve rb 16 0)))
      (when r
        (incf ok 2)
        (ringbuf-discard r 0)))
    ok))
