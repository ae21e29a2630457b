;;; Packets arriving on an interface, counted by IP protocol in an array, as Whistler's
;;; count-xdp and percpu-counter examples do: a file of top-level definitions that
;;; `whistler run --target count-by-protocol=lo` loads and attaches.
;; run: --target count-by-protocol=lo
;; netns: yes
;; workload: curl -s -m 2 http://127.0.0.1:9/
;; expect-map: by-protocol 6 >= 2

(defmap by-protocol :type :array :key-size 4 :value-size 8 :max-entries 256)

(defprog count-by-protocol (:type :xdp :section "xdp" :license "GPL")
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    ;; Ethernet header (14 bytes), then the IPv4 header's protocol byte at offset 9.
    (when (<= (+ data 24) data-end)
      (when (= (load u16 data 12) #x0008)
        (incf (getmap by-protocol (cast u32 (load u8 data 23)))))))
  XDP_PASS)
