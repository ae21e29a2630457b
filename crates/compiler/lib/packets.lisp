;;;; Packet parsing: the statement-style `with-packet`, `with-eth`, `with-ipv4`, `with-ipv6`,
;;;; `with-tcp`, `with-udp`, `with-icmp` (and their `with-tc-*` twins for tc programs), and the
;;;; expression-style `parse-eth`, `parse-ipv4`, `parse-ipv6`, `parse-tcp`, `parse-udp`,
;;;; `parse-icmp` returning a header pointer or 0.
;;;;
;;;; The statement-style macros are flat guards: each check returns the default action at once
;;;; (XDP_PASS, or TC_ACT_OK for `with-tc-*`, or the `:default` given), so the success path never
;;;; nests. Every bounds check compares the very pointer the body then reads through, plus the
;;;; bytes read, against `data-end`: the form the kernel's verifier understands. IPv4 options
;;;; are honoured: the transport header starts IHL * 4 bytes after the IP header, and an IHL
;;;; below 5 is rejected. IPv6 extension headers are not followed: the next header must be the
;;;; transport protocol itself.

;;; Expansion-time helpers.

(defun %guard (test default)
  "A flat guard: return DEFAULT from the program when TEST holds."
  `(when ,test (return ,default)))

(defun %bounds-guard (ptr length data-end default)
  "Returns DEFAULT unless LENGTH bytes from PTR lie before DATA-END."
  (%guard `(> (+ ,ptr ,length) ,data-end) default))

(defun %packet-spec (macro spec)
  "Checks the (DATA DATA-END ...) list of a packet macro and returns it."
  (unless (and (consp spec) (symbolp (first spec)) (consp (rest spec)) (symbolp (second spec)))
    (error "~a: expected (~a (DATA DATA-END ...) BODY...), found ~s" macro macro spec))
  spec)

(defun %header-var (macro spec)
  "The header variable, third in SPEC, of a `with-*` macro for one header."
  (let ((var (third (%packet-spec macro spec))))
    (unless (and var (symbolp var) (not (keywordp var)))
      (error "~a: expected (~a (DATA DATA-END VAR [:default ACTION]) BODY...)" macro macro))
    var))

(defun %with-packet (data data-end min-len default body)
  "Binds DATA and DATA-END from the context and guards MIN-LEN bytes of packet."
  `(let ((,data (ctx data))
         (,data-end (ctx data-end)))
     ,(%bounds-guard data min-len data-end default)
     ,@body))

(defun %with-ipv4 (data data-end ip default body)
  "An IPv4 packet: Ethernet and the fixed IPv4 header in bounds, EtherType IPv4, IHL >= 5."
  (%with-packet data data-end (+ +eth-hdr-len+ +ipv4-hdr-len+) default
                `(,(%guard `(/= (eth-type ,data) ,+ethertype-ipv4+) default)
                  (let ((,ip (+ ,data ,+eth-hdr-len+)))
                    ,(%guard `(< (ipv4-ihl ,ip) 5) default)
                    ,@body))))

(defun %with-ipv6 (data data-end ip6 default body)
  "An IPv6 packet: Ethernet and the fixed IPv6 header in bounds, EtherType IPv6."
  (%with-packet data data-end (+ +eth-hdr-len+ +ipv6-hdr-len+) default
                `(,(%guard `(/= (eth-type ,data) ,+ethertype-ipv6+) default)
                  (let ((,ip6 (+ ,data ,+eth-hdr-len+)))
                    ,@body))))

(defun %l4-after-ipv4 (data data-end var protocol length default body)
  "The transport header after an IPv4 header (options skipped), PROTOCOL checked."
  (let ((ip (%fresh "ip")))
    (%with-ipv4 data data-end ip default
                `(,(%guard `(/= (ipv4-protocol ,ip) ,protocol) default)
                  (let ((,var (+ ,ip (ipv4-header-length ,ip))))
                    ,(%bounds-guard var length data-end default)
                    ,@body)))))

(defun %l4-after-ipv6 (data data-end var protocol length default body)
  "The transport header right after the fixed IPv6 header, next header checked."
  (let ((ip6 (%fresh "ip6")))
    (%with-ipv6 data data-end ip6 default
                `(,(%guard `(/= (ipv6-nexthdr ,ip6) ,protocol) default)
                  (let ((,var (+ ,ip6 ,+ipv6-hdr-len+)))
                    ,(%bounds-guard var length data-end default)
                    ,@body)))))

(defun %l4-after-any-ip (data data-end var protocol length default body)
  "The transport header after either an IPv4 or an IPv6 header, chosen by EtherType."
  (let ((l4 (%fresh "l4"))
        (ip (%fresh "ip"))
        (type (%fresh "ethertype")))
    (%with-packet
     data data-end +eth-hdr-len+ default
     `((let ((,l4 0)
             (,type (eth-type ,data)))
         (cond ((= ,type ,+ethertype-ipv4+)
                ,(%bounds-guard data (+ +eth-hdr-len+ +ipv4-hdr-len+) data-end default)
                (let ((,ip (+ ,data ,+eth-hdr-len+)))
                  ,(%guard `(< (ipv4-ihl ,ip) 5) default)
                  ,(%guard `(/= (ipv4-protocol ,ip) ,protocol) default)
                  (setq ,l4 (+ ,ip (ipv4-header-length ,ip)))))
               ((= ,type ,+ethertype-ipv6+)
                ,(%bounds-guard data (+ +eth-hdr-len+ +ipv6-hdr-len+) data-end default)
                ,(%guard `(/= (ipv6-nexthdr (+ ,data ,+eth-hdr-len+)) ,protocol) default)
                (setq ,l4 (+ ,data ,(+ +eth-hdr-len+ +ipv6-hdr-len+))))
               (t (return ,default)))
         (let ((,var ,l4))
           ,(%bounds-guard var length data-end default)
           ,@body))))))

(defun %with-l4 (macro spec body protocol length fallback)
  "Expands `with-tcp`-like macros: SPEC is (DATA DATA-END VAR &key default family)."
  (destructuring-bind (data data-end var &key (default fallback) (family :ipv4))
      (progn (%header-var macro spec) spec)
    (case family
      (:ipv4 (%l4-after-ipv4 data data-end var protocol length default body))
      (:ipv6 (%l4-after-ipv6 data data-end var protocol length default body))
      (:any (%l4-after-any-ip data data-end var protocol length default body))
      (t (error "~a: :family must be :ipv4, :ipv6 or :any, found ~s" macro family)))))

;;; Statement-style macros, XDP and tc.

(defmacro with-packet ((data data-end &key (min-len 0) (default 'XDP_PASS)) &body body)
  "Binds DATA and DATA-END to the packet's bounds (from the program's context: XDP or tc) and
runs BODY when at least MIN-LEN bytes are present; otherwise returns DEFAULT (XDP_PASS)."
  (%packet-spec 'with-packet (list data data-end))
  (%with-packet data data-end min-len default body))

(defmacro with-eth ((data data-end &key (default 'XDP_PASS)) &body body)
  "Like `with-packet`, guaranteeing a whole Ethernet header at DATA."
  (%packet-spec 'with-eth (list data data-end))
  (%with-packet data data-end +eth-hdr-len+ default body))

(defmacro with-ipv4 ((data data-end ip &key (default 'XDP_PASS)) &body body)
  "Binds IP to the IPv4 header of an Ethernet/IPv4 packet and runs BODY; returns DEFAULT
(XDP_PASS) when the packet is too short, not IPv4, or has an IHL below 5."
  (%header-var 'with-ipv4 (list data data-end ip))
  (%with-ipv4 data data-end ip default body))

(defmacro with-ipv6 ((data data-end ip6 &key (default 'XDP_PASS)) &body body)
  "Binds IP6 to the IPv6 header of an Ethernet/IPv6 packet and runs BODY; returns DEFAULT
(XDP_PASS) when the packet is too short or not IPv6."
  (%header-var 'with-ipv6 (list data data-end ip6))
  (%with-ipv6 data data-end ip6 default body))

(defmacro with-tcp ((&rest spec) &body body)
  "(with-tcp (DATA DATA-END TCP [:default ACTION] [:family :ipv4|:ipv6|:any]) BODY...)
Binds TCP to the TCP header (20 bytes guaranteed) and runs BODY; returns ACTION (XDP_PASS)
when the packet is too short or not TCP over the FAMILY of IP (IPv4 by default; IPv4 options
are skipped)."
  (%with-l4 'with-tcp spec body +ip-proto-tcp+ +tcp-hdr-len+ 'XDP_PASS))

(defmacro with-udp ((&rest spec) &body body)
  "(with-udp (DATA DATA-END UDP [:default ACTION] [:family :ipv4|:ipv6|:any]) BODY...)
Binds UDP to the UDP header (8 bytes guaranteed) and runs BODY; returns ACTION (XDP_PASS)
when the packet is too short or not UDP over the FAMILY of IP (IPv4 by default)."
  (%with-l4 'with-udp spec body +ip-proto-udp+ +udp-hdr-len+ 'XDP_PASS))

(defmacro with-icmp ((&rest spec) &body body)
  "(with-icmp (DATA DATA-END ICMP [:default ACTION]) BODY...)
Binds ICMP to the ICMP header of an IPv4 packet (8 bytes guaranteed) and runs BODY; returns
ACTION (XDP_PASS) when the packet is too short or not ICMP."
  (%with-l4 'with-icmp spec body +ip-proto-icmp+ +icmp-hdr-len+ 'XDP_PASS))

(defmacro with-tc-packet ((data data-end &key (min-len 0) (default 'TC_ACT_OK)) &body body)
  "`with-packet` for tc programs: returns DEFAULT (TC_ACT_OK) when the packet is too short."
  `(with-packet (,data ,data-end :min-len ,min-len :default ,default) ,@body))

(defmacro with-tc-eth ((data data-end &key (default 'TC_ACT_OK)) &body body)
  "`with-eth` for tc programs (default action TC_ACT_OK)."
  `(with-eth (,data ,data-end :default ,default) ,@body))

(defmacro with-tc-ipv4 ((data data-end ip &key (default 'TC_ACT_OK)) &body body)
  "`with-ipv4` for tc programs (default action TC_ACT_OK)."
  `(with-ipv4 (,data ,data-end ,ip :default ,default) ,@body))

(defmacro with-tc-ipv6 ((data data-end ip6 &key (default 'TC_ACT_OK)) &body body)
  "`with-ipv6` for tc programs (default action TC_ACT_OK)."
  `(with-ipv6 (,data ,data-end ,ip6 :default ,default) ,@body))

(defmacro with-tc-tcp ((&rest spec) &body body)
  "`with-tcp` for tc programs (default action TC_ACT_OK)."
  (%with-l4 'with-tc-tcp spec body +ip-proto-tcp+ +tcp-hdr-len+ 'TC_ACT_OK))

(defmacro with-tc-udp ((&rest spec) &body body)
  "`with-udp` for tc programs (default action TC_ACT_OK)."
  (%with-l4 'with-tc-udp spec body +ip-proto-udp+ +udp-hdr-len+ 'TC_ACT_OK))

(defmacro with-tc-icmp ((&rest spec) &body body)
  "`with-icmp` for tc programs (default action TC_ACT_OK)."
  (%with-l4 'with-tc-icmp spec body +ip-proto-icmp+ +icmp-hdr-len+ 'TC_ACT_OK))

(defmacro tc-data ()
  "The packet's start in a tc program (`__sk_buff` data)."
  '(ctx data))

(defmacro tc-data-end ()
  "The packet's end in a tc program (`__sk_buff` data_end)."
  '(ctx data-end))

;;; Expression-style parsers: a header pointer, or 0.

(defun %parse (data data-end checks result)
  "Evaluates DATA and DATA-END once, then RESULT (a function of the two bound names) unless
one of CHECKS (a function of the same names, giving failure tests in order) holds, giving 0."
  (let ((d (%fresh "data"))
        (e (%fresh "end")))
    `(let ((,d ,data)
           (,e ,data-end))
       (if (or ,@(funcall checks d e)) 0 ,(funcall result d e)))))

(defmacro parse-eth (data data-end)
  "DATA when a whole Ethernet header lies before DATA-END, else 0."
  (%parse data data-end
          (lambda (d e) `((> (+ ,d ,+eth-hdr-len+) ,e)))
          (lambda (d e) (declare (ignore e)) d)))

(defun %ipv4-failures (d e)
  "Failure tests of an Ethernet/IPv4 packet at D ending at E."
  (let ((ip `(+ ,d ,+eth-hdr-len+)))
    `((> (+ ,d ,(+ +eth-hdr-len+ +ipv4-hdr-len+)) ,e)
      (/= (eth-type ,d) ,+ethertype-ipv4+)
      (< (ipv4-ihl ,ip) 5))))

(defmacro parse-ipv4 (data data-end)
  "A pointer to the IPv4 header of an Ethernet/IPv4 packet from DATA to DATA-END, or 0 when it
is too short, not IPv4, or has an IHL below 5."
  (%parse data data-end #'%ipv4-failures
          (lambda (d e) (declare (ignore e)) `(+ ,d ,+eth-hdr-len+))))

(defmacro parse-ipv6 (data data-end)
  "A pointer to the IPv6 header of an Ethernet/IPv6 packet from DATA to DATA-END, or 0."
  (%parse data data-end
          (lambda (d e)
            `((> (+ ,d ,(+ +eth-hdr-len+ +ipv6-hdr-len+)) ,e)
              (/= (eth-type ,d) ,+ethertype-ipv6+)))
          (lambda (d e) (declare (ignore e)) `(+ ,d ,+eth-hdr-len+))))

(defun %parse-l4 (data data-end protocol length)
  "A pointer to the LENGTH-byte PROTOCOL header after an IPv4 header (options skipped), or 0."
  (let ((l4 (%fresh "l4")))
    (%parse data data-end
            (lambda (d e)
              (append (%ipv4-failures d e)
                      `((/= (ipv4-protocol (+ ,d ,+eth-hdr-len+)) ,protocol))))
            (lambda (d e)
              `(let ((,l4 (+ (+ ,d ,+eth-hdr-len+) (ipv4-header-length (+ ,d ,+eth-hdr-len+)))))
                 (if (> (+ ,l4 ,length) ,e) 0 ,l4))))))

(defmacro parse-tcp (data data-end)
  "A pointer to the TCP header (20 bytes in bounds) of an Ethernet/IPv4/TCP packet, or 0."
  (%parse-l4 data data-end +ip-proto-tcp+ +tcp-hdr-len+))

(defmacro parse-udp (data data-end)
  "A pointer to the UDP header (8 bytes in bounds) of an Ethernet/IPv4/UDP packet, or 0."
  (%parse-l4 data data-end +ip-proto-udp+ +udp-hdr-len+))

(defmacro parse-icmp (data data-end)
  "A pointer to the ICMP header (8 bytes in bounds) of an Ethernet/IPv4/ICMP packet, or 0."
  (%parse-l4 data data-end +ip-proto-icmp+ +icmp-hdr-len+))
