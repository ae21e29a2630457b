;; A router's TTL step: IPv4 packets whose TTL would expire are dropped, the others leave with
;; the TTL decremented and the header checksum patched incrementally (as Linux's ip_decrease_ttl).
(defprog ttl-step (:type :xdp :section "xdp" :license "GPL")
  (with-ipv4 (data data-end ip)
    (let ((ttl (ipv4-ttl ip)))
      (when (<= ttl 1)
        (return XDP_DROP))
      (set-ipv4-ttl ip (- ttl 1))
      (let ((check (+ (ipv4-checksum ip) (htons #x0100))))
        (set-ipv4-checksum ip (+ check (if (>= check #xffff) 1 0))))))
  XDP_PASS)
