;; DNS queries per source address: UDP to port 53 (IPv4 with options too) counted in a hash map.
(defmap dns-queries :type :hash :key-size 4 :value-size 8 :max-entries 1024)
(defprog count-dns (:type :xdp :section "xdp" :license "GPL")
  (with-udp (data data-end udp)
    (when (= (udp-dst-port udp) 53)
      (incf (getmap dns-queries (ipv4-src-addr (+ data ETH_HLEN))))))
  XDP_PASS)
