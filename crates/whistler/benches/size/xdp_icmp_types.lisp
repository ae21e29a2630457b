;; ICMP messages per type; echo requests (pings) are counted and dropped.
(defmap icmp-types :type :array :key-size 4 :value-size 8 :max-entries 256)
(defprog icmp-guard (:type :xdp :section "xdp" :license "GPL")
  (with-icmp (data data-end icmp)
    (let ((type (icmp-type icmp)))
      (incf (getmap icmp-types type))
      (when (= type 8)
        (return XDP_DROP))))
  XDP_PASS)
