;; Bytes per source address (the IPv4 total length) in an LRU hash that forgets idle sources.
(defmap bytes-by-source :type :lru-hash :key-size 4 :value-size 8 :max-entries 4096)
(defprog count-bytes (:type :xdp :section "xdp" :license "GPL")
  (with-ipv4 (data data-end ip)
    (incf (getmap bytes-by-source (ipv4-src-addr ip)) (ipv4-total-len ip)))
  XDP_PASS)
