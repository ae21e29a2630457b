;; Packets per IP protocol, counted per CPU in a per-CPU hash (no atomics shared between CPUs).
(defmap protocols :type :percpu-hash :key-size 4 :value-size 8 :max-entries 256)
(defprog count-protocols (:type :xdp :section "xdp" :license "GPL")
  (with-ipv4 (data data-end ip)
    (incf (getmap protocols (ipv4-protocol ip))))
  XDP_PASS)
