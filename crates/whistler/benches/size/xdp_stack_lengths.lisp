;; The lengths of the last packets on a stack map (newest on top); a full stack drops the packet.
(defmap lengths :type :stack :value-size 4 :max-entries 4)
(defprog stack-lengths (:type :xdp :section "xdp" :license "GPL")
  (let ((length u32 (- (xdp-data-end) (xdp-data))))
    (if (= (map-push-elem lengths (stack-addr length) 0) 0)
        XDP_PASS
        XDP_DROP)))
