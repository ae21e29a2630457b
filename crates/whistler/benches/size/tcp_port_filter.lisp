;; Drops TCP packets to port 23 (IPv4 with options too), counting them; passes the rest.
(defmap dropped :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog drop-telnet (:type :xdp :section "xdp" :license "GPL")
  (with-tcp (data data-end tcp)
    (when (= (tcp-dst-port tcp) 23)
      (incf (getmap dropped 0))
      (return XDP_DROP)))
  XDP_PASS)
