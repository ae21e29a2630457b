;; test: prog=p data=00000000000000000000000008004500000000000000000600000a0000010000000004d200500000000000000000000000000000000000000000000000000000 expect=1234
;; test: prog=p data=00000000000000000000000008004500000000000000001100000a00000100000000003514e90000000000000000000000000000000000000000000000000000 expect=10
;; test: prog=p data=00000000000000000000000008004500000000000000001100000a000001 expect=3
;; parse-* return the header pointer or 0, usable with when-let / if-let
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (if-let (tcp (parse-tcp data data-end))
      (tcp-src-port tcp)
      (if-let (ip (parse-ipv4 data data-end))
        (if (parse-udp data data-end) (logand (ipv4-src-addr ip) #xff) 2)
        3))))
