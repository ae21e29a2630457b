;; The IP protocols of the last IPv4 packets in a queue map; when it is full the oldest entry
;; makes room (BPF_EXIST).
(defmap recent-protocols :type :queue :value-size 1 :max-entries 4)
(defprog queue-protocols (:type :xdp :section "xdp" :license "GPL")
  (with-ipv4 (data data-end ip)
    (let ((protocol u8 (ipv4-protocol ip)))
      (map-push-elem recent-protocols (stack-addr protocol) BPF_EXIST)))
  XDP_PASS)
