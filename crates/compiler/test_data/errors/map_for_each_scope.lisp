;; The body of map-for-each is a function of its own: the variables around it are out of reach,
;; and its head must name the key, the value and the map.
(defmap totals :type :hash :key-size 4 :value-size 8 :max-entries 16)
(defprog p (:type :xdp)
  (let ((sum 0))
    (map-for-each (k v totals)
      (incf sum (load u64 v 0)))
    (map-for-each (k v)
      0)
    (map-for-each (k v no-such-map)
      0)
    sum))
