;; Re-marks DNS queries (UDP to port 53) with DSCP EF (46), keeping the ECN bits; the IPv4
;; header checksum is patched by the kernel helper before the byte is stored.
(defprog remark-dns (:type :tc :section "tc" :license "GPL")
  (with-tc-udp (data data-end udp)
    (when (= (udp-dst-port udp) 53)
      (let* ((old-tos (ipv4-tos (+ data ETH_HLEN)))
             (new-tos u8 (logior (logand old-tos 3) #xb8)))
        (when (/= old-tos new-tos)
          (l3-csum-replace ctx (+ ETH_HLEN 10) (htons old-tos) (htons new-tos) 2)
          (skb-store-bytes ctx (+ ETH_HLEN 1) (stack-addr new-tos) 1 0)))))
  TC_ACT_OK)
