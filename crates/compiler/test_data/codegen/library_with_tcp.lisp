;; the standard library's `with-tcp`: the TCP header starts IHL * 4 bytes after the IPv4 header
(defmap drop-count :type :array :key-size 4 :value-size 8 :max-entries 1)
(defconstant +blocked-port+ 9999)
(defprog drop-port (:type :xdp :license "GPL")
  (with-tcp (data data-end tcp)
    (when (= (tcp-dst-port tcp) +blocked-port+)
      (incf (getmap drop-count 0))
      (return XDP_DROP)))
  XDP_PASS)
