;; test: prog=p data=01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=13
;; test: prog=p data=01000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=16
;; map: counts key=01000000 value=0600000000000000
;; map: counts key=02000000 value=0a00000000000000
;; a key stored again for the next lookup is read from the slot that already holds it
;; (shared_key_slots); a different key keeps its own slot
(defmap counts :type :hash :key-size 4 :value-size 8 :max-entries 8)
(defprog p (:type :xdp)
  (let* ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 16) data-end) (return 0))
    (let ((k (load u32 data 0)))
      (incf (getmap counts k))
      (incf (getmap counts (+ k 1)) 5)
      (incf (getmap counts k) 2)
      (+ 10 (getmap counts k)))))
