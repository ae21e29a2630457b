;;;; Generated from `standard-headers.lisp` by the compiler's test
;;;; `standard_headers_expansion_is_current` (`UPDATE_EXPECT=1` rewrites it); do not edit.

;;; (defheader eth ...)
(defmacro eth-dst-mac-hi (ptr)
  "Reads the eth field `dst-mac-hi` of the header at PTR: u32 at byte 0, as stored."
  (%header-read 'u32 ptr 0 'nil))
(defmacro set-eth-dst-mac-hi (ptr value)
  "Stores VALUE into the eth field `dst-mac-hi` of the header at PTR (u32 at byte 0, as stored)."
  (%header-write 'u32 ptr 0 'nil value))
(defmacro eth-dst-mac-lo (ptr)
  "Reads the eth field `dst-mac-lo` of the header at PTR: u16 at byte 4, as stored."
  (%header-read 'u16 ptr 4 'nil))
(defmacro set-eth-dst-mac-lo (ptr value)
  "Stores VALUE into the eth field `dst-mac-lo` of the header at PTR (u16 at byte 4, as stored)."
  (%header-write 'u16 ptr 4 'nil value))
(defmacro eth-src-mac-hi (ptr)
  "Reads the eth field `src-mac-hi` of the header at PTR: u32 at byte 6, as stored."
  (%header-read 'u32 ptr 6 'nil))
(defmacro set-eth-src-mac-hi (ptr value)
  "Stores VALUE into the eth field `src-mac-hi` of the header at PTR (u32 at byte 6, as stored)."
  (%header-write 'u32 ptr 6 'nil value))
(defmacro eth-src-mac-lo (ptr)
  "Reads the eth field `src-mac-lo` of the header at PTR: u16 at byte 10, as stored."
  (%header-read 'u16 ptr 10 'nil))
(defmacro set-eth-src-mac-lo (ptr value)
  "Stores VALUE into the eth field `src-mac-lo` of the header at PTR (u16 at byte 10, as stored)."
  (%header-write 'u16 ptr 10 'nil value))
(defmacro eth-type (ptr)
  "Reads the eth field `type` of the header at PTR: u16 at byte 12, network order, converted."
  (%header-read 'u16 ptr 12 'ntohs))
(defmacro set-eth-type (ptr value)
  "Stores VALUE into the eth field `type` of the header at PTR (u16 at byte 12, network order, converted)."
  (%header-write 'u16 ptr 12 'htons value))

;;; (defheader ipv4 ...)
(defmacro ipv4-ver-ihl (ptr)
  "Reads the ipv4 field `ver-ihl` of the header at PTR: u8 at byte 0, as stored."
  (%header-read 'u8 ptr 0 'nil))
(defmacro set-ipv4-ver-ihl (ptr value)
  "Stores VALUE into the ipv4 field `ver-ihl` of the header at PTR (u8 at byte 0, as stored)."
  (%header-write 'u8 ptr 0 'nil value))
(defmacro ipv4-tos (ptr)
  "Reads the ipv4 field `tos` of the header at PTR: u8 at byte 1, as stored."
  (%header-read 'u8 ptr 1 'nil))
(defmacro set-ipv4-tos (ptr value)
  "Stores VALUE into the ipv4 field `tos` of the header at PTR (u8 at byte 1, as stored)."
  (%header-write 'u8 ptr 1 'nil value))
(defmacro ipv4-total-len (ptr)
  "Reads the ipv4 field `total-len` of the header at PTR: u16 at byte 2, network order, converted."
  (%header-read 'u16 ptr 2 'ntohs))
(defmacro set-ipv4-total-len (ptr value)
  "Stores VALUE into the ipv4 field `total-len` of the header at PTR (u16 at byte 2, network order, converted)."
  (%header-write 'u16 ptr 2 'htons value))
(defmacro ipv4-id (ptr)
  "Reads the ipv4 field `id` of the header at PTR: u16 at byte 4, network order, converted."
  (%header-read 'u16 ptr 4 'ntohs))
(defmacro set-ipv4-id (ptr value)
  "Stores VALUE into the ipv4 field `id` of the header at PTR (u16 at byte 4, network order, converted)."
  (%header-write 'u16 ptr 4 'htons value))
(defmacro ipv4-frag-off (ptr)
  "Reads the ipv4 field `frag-off` of the header at PTR: u16 at byte 6, network order, converted."
  (%header-read 'u16 ptr 6 'ntohs))
(defmacro set-ipv4-frag-off (ptr value)
  "Stores VALUE into the ipv4 field `frag-off` of the header at PTR (u16 at byte 6, network order, converted)."
  (%header-write 'u16 ptr 6 'htons value))
(defmacro ipv4-ttl (ptr)
  "Reads the ipv4 field `ttl` of the header at PTR: u8 at byte 8, as stored."
  (%header-read 'u8 ptr 8 'nil))
(defmacro set-ipv4-ttl (ptr value)
  "Stores VALUE into the ipv4 field `ttl` of the header at PTR (u8 at byte 8, as stored)."
  (%header-write 'u8 ptr 8 'nil value))
(defmacro ipv4-protocol (ptr)
  "Reads the ipv4 field `protocol` of the header at PTR: u8 at byte 9, as stored."
  (%header-read 'u8 ptr 9 'nil))
(defmacro set-ipv4-protocol (ptr value)
  "Stores VALUE into the ipv4 field `protocol` of the header at PTR (u8 at byte 9, as stored)."
  (%header-write 'u8 ptr 9 'nil value))
(defmacro ipv4-checksum (ptr)
  "Reads the ipv4 field `checksum` of the header at PTR: u16 at byte 10, as stored."
  (%header-read 'u16 ptr 10 'nil))
(defmacro set-ipv4-checksum (ptr value)
  "Stores VALUE into the ipv4 field `checksum` of the header at PTR (u16 at byte 10, as stored)."
  (%header-write 'u16 ptr 10 'nil value))
(defmacro ipv4-src-addr (ptr)
  "Reads the ipv4 field `src-addr` of the header at PTR: u32 at byte 12, as stored."
  (%header-read 'u32 ptr 12 'nil))
(defmacro set-ipv4-src-addr (ptr value)
  "Stores VALUE into the ipv4 field `src-addr` of the header at PTR (u32 at byte 12, as stored)."
  (%header-write 'u32 ptr 12 'nil value))
(defmacro ipv4-dst-addr (ptr)
  "Reads the ipv4 field `dst-addr` of the header at PTR: u32 at byte 16, as stored."
  (%header-read 'u32 ptr 16 'nil))
(defmacro set-ipv4-dst-addr (ptr value)
  "Stores VALUE into the ipv4 field `dst-addr` of the header at PTR (u32 at byte 16, as stored)."
  (%header-write 'u32 ptr 16 'nil value))

;;; (defheader ipv6 ...)
(defmacro ipv6-ver-tc-flow (ptr)
  "Reads the ipv6 field `ver-tc-flow` of the header at PTR: u32 at byte 0, network order, converted."
  (%header-read 'u32 ptr 0 'ntohl))
(defmacro set-ipv6-ver-tc-flow (ptr value)
  "Stores VALUE into the ipv6 field `ver-tc-flow` of the header at PTR (u32 at byte 0, network order, converted)."
  (%header-write 'u32 ptr 0 'htonl value))
(defmacro ipv6-payload-len (ptr)
  "Reads the ipv6 field `payload-len` of the header at PTR: u16 at byte 4, network order, converted."
  (%header-read 'u16 ptr 4 'ntohs))
(defmacro set-ipv6-payload-len (ptr value)
  "Stores VALUE into the ipv6 field `payload-len` of the header at PTR (u16 at byte 4, network order, converted)."
  (%header-write 'u16 ptr 4 'htons value))
(defmacro ipv6-nexthdr (ptr)
  "Reads the ipv6 field `nexthdr` of the header at PTR: u8 at byte 6, as stored."
  (%header-read 'u8 ptr 6 'nil))
(defmacro set-ipv6-nexthdr (ptr value)
  "Stores VALUE into the ipv6 field `nexthdr` of the header at PTR (u8 at byte 6, as stored)."
  (%header-write 'u8 ptr 6 'nil value))
(defmacro ipv6-hop-limit (ptr)
  "Reads the ipv6 field `hop-limit` of the header at PTR: u8 at byte 7, as stored."
  (%header-read 'u8 ptr 7 'nil))
(defmacro set-ipv6-hop-limit (ptr value)
  "Stores VALUE into the ipv6 field `hop-limit` of the header at PTR (u8 at byte 7, as stored)."
  (%header-write 'u8 ptr 7 'nil value))
(defmacro ipv6-src-addr-hi (ptr)
  "Reads the ipv6 field `src-addr-hi` of the header at PTR: u64 at byte 8, as stored."
  (%header-read 'u64 ptr 8 'nil))
(defmacro set-ipv6-src-addr-hi (ptr value)
  "Stores VALUE into the ipv6 field `src-addr-hi` of the header at PTR (u64 at byte 8, as stored)."
  (%header-write 'u64 ptr 8 'nil value))
(defmacro ipv6-src-addr-lo (ptr)
  "Reads the ipv6 field `src-addr-lo` of the header at PTR: u64 at byte 16, as stored."
  (%header-read 'u64 ptr 16 'nil))
(defmacro set-ipv6-src-addr-lo (ptr value)
  "Stores VALUE into the ipv6 field `src-addr-lo` of the header at PTR (u64 at byte 16, as stored)."
  (%header-write 'u64 ptr 16 'nil value))
(defmacro ipv6-dst-addr-hi (ptr)
  "Reads the ipv6 field `dst-addr-hi` of the header at PTR: u64 at byte 24, as stored."
  (%header-read 'u64 ptr 24 'nil))
(defmacro set-ipv6-dst-addr-hi (ptr value)
  "Stores VALUE into the ipv6 field `dst-addr-hi` of the header at PTR (u64 at byte 24, as stored)."
  (%header-write 'u64 ptr 24 'nil value))
(defmacro ipv6-dst-addr-lo (ptr)
  "Reads the ipv6 field `dst-addr-lo` of the header at PTR: u64 at byte 32, as stored."
  (%header-read 'u64 ptr 32 'nil))
(defmacro set-ipv6-dst-addr-lo (ptr value)
  "Stores VALUE into the ipv6 field `dst-addr-lo` of the header at PTR (u64 at byte 32, as stored)."
  (%header-write 'u64 ptr 32 'nil value))

;;; (defheader tcp ...)
(defmacro tcp-src-port (ptr)
  "Reads the tcp field `src-port` of the header at PTR: u16 at byte 0, network order, converted."
  (%header-read 'u16 ptr 0 'ntohs))
(defmacro set-tcp-src-port (ptr value)
  "Stores VALUE into the tcp field `src-port` of the header at PTR (u16 at byte 0, network order, converted)."
  (%header-write 'u16 ptr 0 'htons value))
(defmacro tcp-dst-port (ptr)
  "Reads the tcp field `dst-port` of the header at PTR: u16 at byte 2, network order, converted."
  (%header-read 'u16 ptr 2 'ntohs))
(defmacro set-tcp-dst-port (ptr value)
  "Stores VALUE into the tcp field `dst-port` of the header at PTR (u16 at byte 2, network order, converted)."
  (%header-write 'u16 ptr 2 'htons value))
(defmacro tcp-seq (ptr)
  "Reads the tcp field `seq` of the header at PTR: u32 at byte 4, network order, converted."
  (%header-read 'u32 ptr 4 'ntohl))
(defmacro set-tcp-seq (ptr value)
  "Stores VALUE into the tcp field `seq` of the header at PTR (u32 at byte 4, network order, converted)."
  (%header-write 'u32 ptr 4 'htonl value))
(defmacro tcp-ack-seq (ptr)
  "Reads the tcp field `ack-seq` of the header at PTR: u32 at byte 8, network order, converted."
  (%header-read 'u32 ptr 8 'ntohl))
(defmacro set-tcp-ack-seq (ptr value)
  "Stores VALUE into the tcp field `ack-seq` of the header at PTR (u32 at byte 8, network order, converted)."
  (%header-write 'u32 ptr 8 'htonl value))
(defmacro tcp-data-off (ptr)
  "Reads the tcp field `data-off` of the header at PTR: u8 at byte 12, as stored."
  (%header-read 'u8 ptr 12 'nil))
(defmacro set-tcp-data-off (ptr value)
  "Stores VALUE into the tcp field `data-off` of the header at PTR (u8 at byte 12, as stored)."
  (%header-write 'u8 ptr 12 'nil value))
(defmacro tcp-flags (ptr)
  "Reads the tcp field `flags` of the header at PTR: u8 at byte 13, as stored."
  (%header-read 'u8 ptr 13 'nil))
(defmacro set-tcp-flags (ptr value)
  "Stores VALUE into the tcp field `flags` of the header at PTR (u8 at byte 13, as stored)."
  (%header-write 'u8 ptr 13 'nil value))
(defmacro tcp-window (ptr)
  "Reads the tcp field `window` of the header at PTR: u16 at byte 14, network order, converted."
  (%header-read 'u16 ptr 14 'ntohs))
(defmacro set-tcp-window (ptr value)
  "Stores VALUE into the tcp field `window` of the header at PTR (u16 at byte 14, network order, converted)."
  (%header-write 'u16 ptr 14 'htons value))
(defmacro tcp-checksum (ptr)
  "Reads the tcp field `checksum` of the header at PTR: u16 at byte 16, as stored."
  (%header-read 'u16 ptr 16 'nil))
(defmacro set-tcp-checksum (ptr value)
  "Stores VALUE into the tcp field `checksum` of the header at PTR (u16 at byte 16, as stored)."
  (%header-write 'u16 ptr 16 'nil value))
(defmacro tcp-urgent (ptr)
  "Reads the tcp field `urgent` of the header at PTR: u16 at byte 18, network order, converted."
  (%header-read 'u16 ptr 18 'ntohs))
(defmacro set-tcp-urgent (ptr value)
  "Stores VALUE into the tcp field `urgent` of the header at PTR (u16 at byte 18, network order, converted)."
  (%header-write 'u16 ptr 18 'htons value))

;;; (defheader udp ...)
(defmacro udp-src-port (ptr)
  "Reads the udp field `src-port` of the header at PTR: u16 at byte 0, network order, converted."
  (%header-read 'u16 ptr 0 'ntohs))
(defmacro set-udp-src-port (ptr value)
  "Stores VALUE into the udp field `src-port` of the header at PTR (u16 at byte 0, network order, converted)."
  (%header-write 'u16 ptr 0 'htons value))
(defmacro udp-dst-port (ptr)
  "Reads the udp field `dst-port` of the header at PTR: u16 at byte 2, network order, converted."
  (%header-read 'u16 ptr 2 'ntohs))
(defmacro set-udp-dst-port (ptr value)
  "Stores VALUE into the udp field `dst-port` of the header at PTR (u16 at byte 2, network order, converted)."
  (%header-write 'u16 ptr 2 'htons value))
(defmacro udp-length (ptr)
  "Reads the udp field `length` of the header at PTR: u16 at byte 4, network order, converted."
  (%header-read 'u16 ptr 4 'ntohs))
(defmacro set-udp-length (ptr value)
  "Stores VALUE into the udp field `length` of the header at PTR (u16 at byte 4, network order, converted)."
  (%header-write 'u16 ptr 4 'htons value))
(defmacro udp-checksum (ptr)
  "Reads the udp field `checksum` of the header at PTR: u16 at byte 6, as stored."
  (%header-read 'u16 ptr 6 'nil))
(defmacro set-udp-checksum (ptr value)
  "Stores VALUE into the udp field `checksum` of the header at PTR (u16 at byte 6, as stored)."
  (%header-write 'u16 ptr 6 'nil value))

;;; (defheader icmp ...)
(defmacro icmp-type (ptr)
  "Reads the icmp field `type` of the header at PTR: u8 at byte 0, as stored."
  (%header-read 'u8 ptr 0 'nil))
(defmacro set-icmp-type (ptr value)
  "Stores VALUE into the icmp field `type` of the header at PTR (u8 at byte 0, as stored)."
  (%header-write 'u8 ptr 0 'nil value))
(defmacro icmp-code (ptr)
  "Reads the icmp field `code` of the header at PTR: u8 at byte 1, as stored."
  (%header-read 'u8 ptr 1 'nil))
(defmacro set-icmp-code (ptr value)
  "Stores VALUE into the icmp field `code` of the header at PTR (u8 at byte 1, as stored)."
  (%header-write 'u8 ptr 1 'nil value))
(defmacro icmp-checksum (ptr)
  "Reads the icmp field `checksum` of the header at PTR: u16 at byte 2, as stored."
  (%header-read 'u16 ptr 2 'nil))
(defmacro set-icmp-checksum (ptr value)
  "Stores VALUE into the icmp field `checksum` of the header at PTR (u16 at byte 2, as stored)."
  (%header-write 'u16 ptr 2 'nil value))
(defmacro icmp-rest (ptr)
  "Reads the icmp field `rest` of the header at PTR: u32 at byte 4, as stored."
  (%header-read 'u32 ptr 4 'nil))
(defmacro set-icmp-rest (ptr value)
  "Stores VALUE into the icmp field `rest` of the header at PTR (u32 at byte 4, as stored)."
  (%header-write 'u32 ptr 4 'nil value))
