;; test: prog=p data=00000000000000000000000008004500000000000000000602000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=2
;; the protocol library's documented constants are known by name
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data (+ +eth-hdr-len+ +ipv4-hdr-len+)) data-end) (return XDP_ABORTED))
    (if (and (= (ntohs (load u16 data 12)) +ethertype-ipv4+)
             (= (load u8 data (+ +eth-hdr-len+ 9)) +ip-proto-tcp+)
             (logand (load u8 data 24) +tcp-syn+))
        XDP_PASS
        XDP_DROP)))
