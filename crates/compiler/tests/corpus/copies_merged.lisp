;; test: prog=copies data=00112233445566778899aabbccddeeff000000000000000000000000000000000000000000000000 expect=3 out=001122330011223300112233ccddeeff8899aabbccddeeff
;; map: saved key=00000000 value=8899aabbccddeeff
;; adjacent copies become one wide copy (packet to map value, map value to packet); an
;; overlapping copy within the packet reads what the copy before it wrote
(defmap saved :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog copies (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 40) data-end) (return XDP_ABORTED))
    (when-let ((v (map-lookup saved 0)))
      (store u32 v 0 (load u32 data 8))
      (store u32 v 4 (load u32 data 12))
      (store u16 data 16 (load u16 v 0))
      (store u16 data 18 (load u16 v 2))
      (store u16 data 20 (load u16 v 4))
      (store u16 data 22 (load u16 v 6)))
    (store u32 data 4 (load u32 data 0))
    (store u32 data 8 (load u32 data 4))
    XDP_TX))
