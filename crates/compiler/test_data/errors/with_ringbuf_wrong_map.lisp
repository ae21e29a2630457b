(defmap m :type :hash :key-size 4 :value-size 8 :max-entries 1)
(defprog p (:type :xdp)
  (with-ringbuf (e m 8) 0)
  0)
