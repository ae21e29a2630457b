;; Frames per network family, counted per CPU: IPv4, IPv6 and everything else.
(defmap families :type :percpu-array :key-size 4 :value-size 8 :max-entries 3)
(defprog count-families (:type :xdp :section "xdp" :license "GPL")
  (with-eth (data data-end)
    (let ((type (eth-type data)))
      (incf (getmap families (cond ((= type ETH_P_IP) 0)
                                   ((= type ETH_P_IPV6) 1)
                                   (t 2))))))
  XDP_PASS)
