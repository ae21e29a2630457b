(defstruct event (pid u32))
(defprog p (:type :xdp)
  (sizeof evnet))
