;; test: prog=drop_port data=00000000000000000000000008004500002800000000400600000a0000010a00000204d21f900000000000000000000000000000000000000000000000000000 expect=1
;; test: prog=drop_port data=00000000000000000000000008004500002800000000400600000a0000010a00000204d200500000000000000000000000000000000000000000000000000000 expect=2
;; test: prog=drop_port data=00000000000000000000000086dd0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=2
;; parse Ethernet / IPv4 / TCP with verifier-visible bounds checks
(defconstant +eth-hdr-len+ 14)
(defprog drop-port (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 54) data-end) (return XDP_PASS))
    (unless (= (ntohs (load u16 data 12)) ETH_P_IP) (return XDP_PASS))
    (let ((ip (+ data +eth-hdr-len+)))
      (unless (= (load u8 ip 9) IPPROTO_TCP) (return XDP_PASS))
      (let ((tcp (+ ip (* 4 (logand (load u8 ip 0) #xf)))))
        (when (> (+ tcp 20) data-end) (return XDP_PASS))
        (if (= (ntohs (load u16 tcp 2)) 8080) XDP_DROP XDP_PASS)))))
