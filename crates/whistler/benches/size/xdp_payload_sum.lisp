;; The byte sum of the first 32 bytes of a UDP payload (fewer when the packet ends first), kept
;; in an array: a bounded loop with a bounds check the verifier follows on every iteration.
(defmap payload-sums :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog sum-payload (:type :xdp :section "xdp" :license "GPL")
  (with-udp (data data-end udp)
    (let ((sum 0))
      (dotimes (i 32)
        (let ((byte (+ udp 8 i)))
          (when (<= (+ byte 1) data-end)
            (incf sum (load u8 byte 0)))))
      (setf (getmap payload-sums 0) sum)))
  XDP_PASS)
