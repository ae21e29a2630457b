;;;; The standard protocol headers, declared with `defheader` (`headers.lisp`), with Whistler's
;;;; accessor names.
;;;;
;;;; This file is the declaration; the compiler loads its expansion,
;;;; `standard-headers.expanded.lisp`, where each accessor and setter is a top-level `defmacro`
;;;; that is read and evaluated on its first use, as any library macro is. The compiler's test
;;;; `standard_headers_expansion_is_current` (crates/compiler/tests/stdlib.rs) fails when the two
;;;; disagree; `UPDATE_EXPECT=1` rewrites the expansion.

(defheader eth
  (dst-mac-hi :offset 0 :type u32)
  (dst-mac-lo :offset 4 :type u16)
  (src-mac-hi :offset 6 :type u32)
  (src-mac-lo :offset 10 :type u16)
  (type :offset 12 :type u16 :net-order t))

(defheader ipv4
  (ver-ihl :offset 0 :type u8)
  (tos :offset 1 :type u8)
  (total-len :offset 2 :type u16 :net-order t)
  (id :offset 4 :type u16 :net-order t)
  (frag-off :offset 6 :type u16 :net-order t)
  (ttl :offset 8 :type u8)
  (protocol :offset 9 :type u8)
  (checksum :offset 10 :type u16)
  (src-addr :offset 12 :type u32)
  (dst-addr :offset 16 :type u32))

(defheader ipv6
  (ver-tc-flow :offset 0 :type u32 :net-order t)
  (payload-len :offset 4 :type u16 :net-order t)
  (nexthdr :offset 6 :type u8)
  (hop-limit :offset 7 :type u8)
  (src-addr-hi :offset 8 :type u64)
  (src-addr-lo :offset 16 :type u64)
  (dst-addr-hi :offset 24 :type u64)
  (dst-addr-lo :offset 32 :type u64))

(defheader tcp
  (src-port :offset 0 :type u16 :net-order t)
  (dst-port :offset 2 :type u16 :net-order t)
  (seq :offset 4 :type u32 :net-order t)
  (ack-seq :offset 8 :type u32 :net-order t)
  (data-off :offset 12 :type u8)
  (flags :offset 13 :type u8)
  (window :offset 14 :type u16 :net-order t)
  (checksum :offset 16 :type u16)
  (urgent :offset 18 :type u16 :net-order t))

(defheader udp
  (src-port :offset 0 :type u16 :net-order t)
  (dst-port :offset 2 :type u16 :net-order t)
  (length :offset 4 :type u16 :net-order t)
  (checksum :offset 6 :type u16))

(defheader icmp
  (type :offset 0 :type u8)
  (code :offset 1 :type u8)
  (checksum :offset 2 :type u16)
  (rest :offset 4 :type u32))
