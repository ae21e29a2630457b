;; test: prog=p data=000000000000000000000000080045000000000000000006000000000000000000000000000000000000000000000012000000000000000000000000 expect=18
;; test: prog=p data=000000000000000000000000080045000000000000000011000000000000000000000000000000000000000000000000000000000000000000000000 expect=2
;; test: prog=p data=0000000000000000000000000800450000000000000000060000000000000000000000000000000000000000000000120000 expect=0
;; a guarded early return on one protocol followed by a second test of the same protocol:
;; the path where the guard was skipped must not reach the access it protected
(defprog p (:type :xdp)
  (with-packet (data data-end :min-len 38)
    (when (= (eth-type data) +ethertype-ipv4+)
      (let* ((ip (+ data +eth-hdr-len+))
             (proto (ipv4-protocol ip)))
        (when (and (= proto +ip-proto-tcp+) (> (+ data 54) data-end))
          (return XDP_ABORTED))
        (when (= proto +ip-proto-tcp+)
          (return (tcp-flags (+ ip +ipv4-hdr-len+)))))))
  XDP_PASS)
