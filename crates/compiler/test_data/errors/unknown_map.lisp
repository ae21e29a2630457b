(defmap counts :type :hash :key-size 4 :value-size 8 :max-entries 16)
(defprog p (:type :xdp)
  (incf (getmap cuonts 1))
  XDP_PASS)
