(defstruct event (pid u32) (comm (array u8 16)))
(defprog p (:type :xdp)
  (let ((e (make-event)))
    (event-pdi e)))
