;;;; Network protocol headers: `defheader`, the standard header layouts (Ethernet, IPv4, IPv6,
;;;; TCP, UDP, ICMP) with their accessor macros, and the protocol constants.
;;;;
;;;; An accessor `(HEADER-FIELD ptr)` expands to `(load TYPE ptr OFFSET)`, wrapped in
;;;; `ntohs`/`ntohl`/`ntohll` when the field is in network byte order; the setter
;;;; `(set-HEADER-FIELD ptr value)` stores with the inverse conversion. For fields in host order
;;;; `(setf (HEADER-FIELD ptr) value)` works too, since the accessor expands to a `load` place.

;;; Helpers used by the macros at expansion time.

(defun %symbolicate (&rest parts)
  "Interns the concatenation of PARTS (symbols, strings or numbers) as one symbol."
  (intern (format nil "~{~a~}" parts)))

(defun %fresh (name)
  "A fresh symbol for a macro's own variable, spelled %NAME-N. (Expansions reach the compiler
as plain names, so the % keeps them apart from user variables.)"
  (gensym (format nil "%~a-" name)))

(defun %scalar-size (type)
  "The size in bytes of the scalar TYPE (u8...u64, i8...i64), or NIL for anything else."
  (let ((name (string-downcase (symbol-name type))))
    (cond ((member name '("u8" "i8") :test #'string=) 1)
          ((member name '("u16" "i16") :test #'string=) 2)
          ((member name '("u32" "i32") :test #'string=) 4)
          ((member name '("u64" "i64") :test #'string=) 8)
          (t nil))))

(defun %byte-swap (type direction)
  "The byte-order conversion for a network-order field of TYPE: DIRECTION :to-host gives the
ntoh form name, :to-network the hton one; one-byte fields need none (NIL)."
  (let ((size (%scalar-size type))
        (to-host (eq direction :to-host)))
    (case size
      (2 (if to-host 'ntohs 'htons))
      (4 (if to-host 'ntohl 'htonl))
      (8 (if to-host 'ntohll 'htonll))
      (t nil))))

(defun %header-read (type ptr offset swap)
  "The form reading a TYPE field at OFFSET from PTR, converted with SWAP when non-NIL."
  (let ((load (list 'load type ptr offset)))
    (if swap (list swap load) load)))

(defun %header-write (type ptr offset swap value)
  "The form storing VALUE into a TYPE field at OFFSET from PTR, converted with SWAP when non-NIL."
  (list 'store type ptr offset (if swap (list swap value) value)))

(defun %header-field-macros (header field)
  "The accessor and setter definitions for one FIELD spec of HEADER."
  (unless (consp field)
    (error "defheader ~a: a field is written (NAME :offset N :type TYPE [:net-order T]), not ~s"
           header field))
  (destructuring-bind (name &key offset type net-order) field
    (unless (integerp offset)
      (error "defheader ~a: field ~a needs an integer :offset" header name))
    (unless (and (symbolp type) type (%scalar-size type))
      (error "defheader ~a: field ~a needs a :type among u8 u16 u32 u64 (found ~s)"
             header name type))
    (let ((to-host (and net-order (%byte-swap type :to-host)))
          (to-network (and net-order (%byte-swap type :to-network)))
          (order (if net-order "network order, converted" "as stored"))
          (doc-names (mapcar (lambda (s) (string-downcase (symbol-name s))) (list header name type))))
      (list
       `(defmacro ,(%symbolicate header "-" name) (ptr)
          ,(format nil "Reads the ~a field `~a` of the header at PTR: ~a at byte ~d, ~a."
                   (first doc-names) (second doc-names) (third doc-names) offset order)
          (%header-read ',type ptr ,offset ',to-host))
       `(defmacro ,(%symbolicate "set-" header "-" name) (ptr value)
          ,(format nil "Stores VALUE into the ~a field `~a` of the header at PTR (~a at byte ~d, ~a)."
                   (first doc-names) (second doc-names) (third doc-names) offset order)
          (%header-write ',type ptr ,offset ',to-network value))))))

(defmacro defheader (name &body fields)
  "Declares the layout of a protocol header. Each field is written
(FIELD :offset BYTE :type u8|u16|u32|u64 [:net-order T]) and defines the accessor macro
(NAME-FIELD ptr), reading with `load` (and `ntohs`/`ntohl`/`ntohll` for network-order fields),
and the setter macro (set-NAME-FIELD ptr value)."
  (unless (and name (symbolp name))
    (error "defheader: the header name must be a symbol, found ~s" name))
  `(progn ,@(mapcan (lambda (field) (%header-field-macros name field)) fields)))

;;; Protocol constants, for macros and programs alike. The kernel's own numbers (`+eth-p-ip+`,
;;; `+ipproto-tcp+`, ...) come from the compiler's table of kernel constants.

(defconstant +ethertype-ipv4+ +eth-p-ip+ "EtherType of IPv4 (ETH_P_IP).")
(defconstant +ethertype-ipv6+ +eth-p-ipv6+ "EtherType of IPv6 (ETH_P_IPV6).")
(defconstant +ethertype-arp+ +eth-p-arp+ "EtherType of ARP (ETH_P_ARP).")
(defconstant +ethertype-vlan+ +eth-p-8021q+ "EtherType of an 802.1Q VLAN tag (ETH_P_8021Q).")

(defconstant +eth-hdr-len+ +eth-hlen+ "Bytes in an Ethernet header (ETH_HLEN).")
(defconstant +ipv4-hdr-len+ 20 "Bytes in an IPv4 header without options.")
(defconstant +ipv6-hdr-len+ 40 "Bytes in the fixed IPv6 header.")
(defconstant +tcp-hdr-len+ 20 "Bytes in a TCP header without options.")
(defconstant +udp-hdr-len+ 8 "Bytes in a UDP header.")
(defconstant +icmp-hdr-len+ 8 "Bytes in an ICMP header.")

(defconstant +ip-proto-icmp+ +ipproto-icmp+ "IP protocol number of ICMP.")
(defconstant +ip-proto-tcp+ +ipproto-tcp+ "IP protocol number of TCP.")
(defconstant +ip-proto-udp+ +ipproto-udp+ "IP protocol number of UDP.")
(defconstant +ip-proto-ipv6-icmp+ +ipproto-icmpv6+ "IP protocol number of ICMPv6.")

(defconstant +tcp-fin+ #x01 "TCP flag FIN in `tcp-flags`.")
(defconstant +tcp-syn+ #x02 "TCP flag SYN in `tcp-flags`.")
(defconstant +tcp-rst+ #x04 "TCP flag RST in `tcp-flags`.")
(defconstant +tcp-psh+ #x08 "TCP flag PSH in `tcp-flags`.")
(defconstant +tcp-ack+ #x10 "TCP flag ACK in `tcp-flags`.")
(defconstant +tcp-urg+ #x20 "TCP flag URG in `tcp-flags`.")

;;; The standard headers (Ethernet, IPv4, IPv6, TCP, UDP, ICMP) are declared with `defheader` in
;;; `standard-headers.lisp`; what loads is their expansion, `standard-headers.expanded.lisp`, so
;;; that each accessor is read and defined on first use like any library macro.

;;; Derived fields.

(defmacro ipv4-version (ip)
  "The IP version of the IPv4 header at IP (the high nibble of `ipv4-ver-ihl`; 4 when valid)."
  `(>> (ipv4-ver-ihl ,ip) 4))

(defmacro ipv4-ihl (ip)
  "The Internet Header Length of the IPv4 header at IP, in 32-bit words (5 without options)."
  `(logand (ipv4-ver-ihl ,ip) 15))

(defmacro ipv4-header-length (ip)
  "The length in bytes of the IPv4 header at IP, options included (IHL * 4, at most 60)."
  `(<< (logand (ipv4-ver-ihl ,ip) 15) 2))

(defmacro ipv6-src-addr (ip6)
  "A pointer to the 16-byte source address of the IPv6 header at IP6."
  `(+ ,ip6 8))

(defmacro ipv6-dst-addr (ip6)
  "A pointer to the 16-byte destination address of the IPv6 header at IP6."
  `(+ ,ip6 24))

(defmacro tcp-header-length (tcp)
  "The length in bytes of the TCP header at TCP, options included (data offset * 4)."
  `(<< (>> (tcp-data-off ,tcp) 4) 2))

(defmacro tcp-flag-p (tcp flag)
  "True (nonzero) when every bit of FLAG (e.g. +tcp-syn+) is set in the TCP header at TCP."
  `(= (logand (tcp-flags ,tcp) ,flag) ,flag))
