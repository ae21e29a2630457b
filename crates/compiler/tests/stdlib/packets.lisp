;;; Programs using the standard library's packet macros, run by tests/stdlib.rs on crafted
;;; packets. Return values encode what the program saw; 1 is "the guard returned early".

(defprog syn-80 (:type :xdp :section "xdp" :license "GPL")
  (with-tcp (data data-end tcp)
    (when (and (= (tcp-dst-port tcp) 80) (tcp-flag-p tcp +tcp-syn+))
      (return XDP_DROP)))
  XDP_PASS)

(defprog tcp-dport (:type :xdp :section "xdp" :license "GPL")
  (with-tcp (data data-end tcp :default 1)
    (tcp-dst-port tcp)))

(defprog tcp-fields (:type :xdp :section "xdp" :license "GPL")
  ;; source port, header length and flags packed: sport << 16 | hlen << 8 | flags
  (with-tcp (data data-end tcp :default 1)
    (logior (<< (tcp-src-port tcp) 16)
            (<< (tcp-header-length tcp) 8)
            (tcp-flags tcp))))

(defprog tcp6-dport (:type :xdp :section "xdp" :license "GPL")
  (with-tcp (data data-end tcp :default 1 :family :ipv6)
    (tcp-dst-port tcp)))

(defprog tcp-any-dport (:type :xdp :section "xdp" :license "GPL")
  (with-tcp (data data-end tcp :default 1 :family :any)
    (tcp-dst-port tcp)))

(defprog udp-dport (:type :xdp :section "xdp" :license "GPL")
  (with-udp (data data-end udp :default 1)
    (udp-dst-port udp)))

(defprog udp-any-len (:type :xdp :section "xdp" :license "GPL")
  (with-udp (data data-end udp :default 1 :family :any)
    (udp-length udp)))

(defprog icmp-type (:type :xdp :section "xdp" :license "GPL")
  (with-icmp (data data-end icmp :default 1)
    (logior (<< (icmp-type icmp) 8) (icmp-code icmp))))

(defprog ipv4-info (:type :xdp :section "xdp" :license "GPL")
  ;; header length << 16 | protocol << 8 | ttl
  (with-ipv4 (data data-end ip :default 1)
    (logior (<< (ipv4-header-length ip) 16)
            (<< (ipv4-protocol ip) 8)
            (ipv4-ttl ip))))

(defprog ipv6-info (:type :xdp :section "xdp" :license "GPL")
  ;; next header << 8 | hop limit, plus the payload length << 16
  (with-ipv6 (data data-end ip6 :default 1)
    (logior (<< (ipv6-payload-len ip6) 16)
            (<< (ipv6-nexthdr ip6) 8)
            (ipv6-hop-limit ip6))))

(defprog eth-type (:type :xdp :section "xdp" :license "GPL")
  (with-eth (data data-end :default 1)
    (eth-type data)))

(defprog min-60 (:type :xdp :section "xdp" :license "GPL")
  (with-packet (data data-end :min-len 60 :default 1)
    7))

(defprog set-ttl (:type :xdp :section "xdp" :license "GPL")
  ;; rewrites the TTL through `setf` and the total length through its setter
  (with-ipv4 (data data-end ip)
    (setf (ipv4-ttl ip) 9)
    (set-ipv4-total-len ip 300))
  XDP_PASS)

(defprog parse-tcp-sp (:type :xdp :section "xdp" :license "GPL")
  (let ((data (xdp-data))
        (data-end (xdp-data-end)))
    (when-let ((tcp (parse-tcp data data-end)))
      (return (tcp-src-port tcp))))
  1)

(defprog parse-udp-dp (:type :xdp :section "xdp" :license "GPL")
  (let ((data (xdp-data))
        (data-end (xdp-data-end)))
    (when-let ((udp (parse-udp data data-end)))
      (return (udp-dst-port udp))))
  1)

(defprog parse-icmp-t (:type :xdp :section "xdp" :license "GPL")
  (let ((data (xdp-data))
        (data-end (xdp-data-end)))
    (when-let ((icmp (parse-icmp data data-end)))
      (return (icmp-type icmp))))
  1)

(defprog parse-ip-ttl (:type :xdp :section "xdp" :license "GPL")
  (let ((data (xdp-data))
        (data-end (xdp-data-end)))
    (when-let ((ip (parse-ipv4 data data-end)))
      (return (ipv4-ttl ip))))
  1)

(defprog parse-ip6-hl (:type :xdp :section "xdp" :license "GPL")
  (let ((data (xdp-data))
        (data-end (xdp-data-end)))
    (when-let ((ip6 (parse-ipv6 data data-end)))
      (return (ipv6-hop-limit ip6))))
  1)

(defprog parse-eth-t (:type :xdp :section "xdp" :license "GPL")
  (let ((data (xdp-data))
        (data-end (xdp-data-end)))
    (when-let ((eth (parse-eth data data-end)))
      (return (eth-type eth))))
  1)

(defprog tc-tcp-dport (:type :tc :section "tc" :license "GPL")
  (with-tc-tcp (data data-end tcp)
    (when (= (tcp-dst-port tcp) 80)
      (return TC_ACT_SHOT)))
  TC_ACT_OK)

;; A user-defined header read over UDP: the 24-bit VXLAN network identifier.
(defheader vxlan
  (flags :offset 0 :type u8)
  (vni :offset 4 :type u32 :net-order t))

(defprog vxlan-vni (:type :xdp :section "xdp" :license "GPL")
  (with-udp (data data-end udp :default 1)
    (let ((vx (+ udp +udp-hdr-len+)))
      (when (> (+ vx 8) data-end)
        (return 1))
      (>> (vxlan-vni vx) 8))))

;; Without :default, a packet of another kind skips the body and goes on to the next form.
(defprog chain (:type :xdp :section "xdp" :license "GPL")
  (with-tcp (data data-end tcp)
    (return (tcp-dst-port tcp)))
  (with-udp (data data-end udp :family :any)
    (return (+ 10000 (udp-dst-port udp))))
  (with-ipv4 (data data-end ip)
    (return (+ 1000 (ipv4-protocol ip))))
  7)

(defprog icmp-any (:type :xdp :section "xdp" :license "GPL")
  ;; ICMP over IPv4 or ICMPv6 over IPv6: type << 8 | code
  (with-icmp (data data-end icmp :default 1 :family :any)
    (logior (<< (icmp-type icmp) 8) (icmp-code icmp))))
