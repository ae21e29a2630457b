;; A SYN flood guard: connection attempts (SYN without ACK) per source in an LRU hash; a source
;; past two attempts is dropped.
(defmap syn-counts :type :lru-hash :key-size 4 :value-size 8 :max-entries 4096)
(defprog limit-syns (:type :xdp :section "xdp" :license "GPL")
  (with-tcp (data data-end tcp)
    (when (= (logand (tcp-flags tcp) (logior +tcp-syn+ +tcp-ack+)) +tcp-syn+)
      (let ((source (ipv4-src-addr (+ data ETH_HLEN))))
        (incf (getmap syn-counts source))
        (when (> (getmap syn-counts source) 2)
          (return XDP_DROP)))))
  XDP_PASS)
