;;;; Packet parsing: the statement-style `with-packet`, `with-eth`, `with-ipv4`, `with-ipv6`,
;;;; `with-tcp`, `with-udp`, `with-icmp` (and their `with-tc-*` twins for tc programs), and the
;;;; expression-style `parse-eth`, `parse-ipv4`, `parse-ipv6`, `parse-tcp`, `parse-udp`,
;;;; `parse-icmp` returning a header pointer or 0.
;;;;
;;;; The statement-style macros bind DATA and DATA-END from the program's context (XDP or tc),
;;;; then check the packet step by step; the success path never nests (flat guards):
;;;; - a packet too short for the headers is answered at once with `(return ACTION)`: XDP_PASS,
;;;;   TC_ACT_OK for `with-tc-*`, or the `:default` given;
;;;; - a packet of another kind (EtherType, IP protocol, an IPv4 IHL below 5) skips the body and
;;;;   execution goes on after the form, as in Whistler, so `(with-tcp ...) (with-udp ...)` chains
;;;;   work; with `:default ACTION` it returns ACTION instead.
;;;; Every bounds check compares the very pointer the body then reads through, plus the bytes
;;;; read, against `data-end`: the form the kernel's verifier understands. IPv4 options are
;;;; honoured: the transport header starts IHL * 4 bytes after the IP header. Up to 4 IPv6
;;;; extension headers (hop-by-hop, routing, fragment, destination options) are stepped over.

;;; Expansion-time helpers. A parse is a list of steps, turned into forms by %steps->forms:
;;;   (:short TEST)    the packet is too short when TEST holds
;;;   (:mismatch TEST) the packet is of another kind when TEST holds
;;;   (:bind VAR INIT) VAR is INIT in the steps that follow and the body
;;;   (:do FORM)       FORM runs for effect

(defun %guard (test action)
  "A flat guard: return ACTION from the program when TEST holds."
  `(when ,test (return ,action)))

(defun %steps->forms (steps body short mismatch)
  "The forms checking STEPS, then BODY (a list of forms). SHORT is the action for a packet too
short; MISMATCH the action for one of another kind, or NIL to skip the body."
  (if (null steps)
      body
      (let ((step (first steps))
            (rest (%steps->forms (rest steps) body short mismatch)))
        (case (first step)
          (:short (cons (%guard (second step) short) rest))
          (:mismatch (if mismatch
                         (cons (%guard (second step) mismatch) rest)
                         (list `(unless ,(second step) ,@rest))))
          (:bind (list `(let ((,(second step) ,(third step))) ,@rest)))
          (:do (cons (second step) rest))
          (t (error "unknown parse step ~s" step))))))

(defun %with-context (data data-end steps body short mismatch)
  "Binds DATA and DATA-END to the packet's bounds from the context, then checks STEPS."
  `(let ((,data (ctx data))
         (,data-end (ctx data-end)))
     ,@(%steps->forms steps body short mismatch)))

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

(defun %ipv4-steps (data data-end ip)
  "Steps of an Ethernet/IPv4 packet, binding IP to the IPv4 header."
  `((:short (> (+ ,data ,(+ +eth-hdr-len+ +ipv4-hdr-len+)) ,data-end))
    (:mismatch (/= (eth-type ,data) ,+ethertype-ipv4+))
    (:bind ,ip (+ ,data ,+eth-hdr-len+))
    (:mismatch (< (ipv4-ihl ,ip) 5))))

(defun %ipv6-steps (data data-end ip6)
  "Steps of an Ethernet/IPv6 packet, binding IP6 to the IPv6 header."
  `((:short (> (+ ,data ,(+ +eth-hdr-len+ +ipv6-hdr-len+)) ,data-end))
    (:mismatch (/= (eth-type ,data) ,+ethertype-ipv6+))
    (:bind ,ip6 (+ ,data ,+eth-hdr-len+))))

(defun %l4-bound-steps (var init length data-end)
  "Binds VAR to the transport header at INIT and checks its LENGTH bytes."
  `((:bind ,var ,init)
    (:short (> (+ ,var ,length) ,data-end))))

(defun %ipv4-l4-init (data ihl)
  "The transport header's address after the IPv4 header of DATA with IHL words."
  `(+ ,data (+ (<< ,ihl 2) ,+eth-hdr-len+)))

(defun %protocol (protocol family)
  "PROTOCOL's number for FAMILY (:ipv4 or :ipv6): PROTOCOL is one number for both, or a list
(IPV4-NUMBER IPV6-NUMBER) such as ICMP's (1 58)."
  (if (consp protocol)
      (if (eq family :ipv6) (second protocol) (first protocol))
      protocol))

(defconstant +ipv6-max-extension-headers+ 4
  "Extension headers the IPv6 parsers step over before giving up on a packet.")

(defun %ipv6-extension-walk (data data-end next offset short)
  "A bounded loop stepping over IPv6 extension headers (hop-by-hop 0, routing 43, fragment 44,
destination options 60): NEXT holds the next-header number and OFFSET the byte offset from
DATA, both updated in place; an extension header cut short returns SHORT. A fragment other
than the first carries no upper-layer header: NEXT becomes 59 (no next header)."
  (let ((ext (%fresh "ext"))
        (i (%fresh "i")))
    `(dotimes (,i ,+ipv6-max-extension-headers+)
       (when (or (= ,next 0) (= ,next 43) (= ,next 44) (= ,next 60))
         (let ((,ext (+ ,data ,offset)))
           ,(%guard `(> (+ ,ext 8) ,data-end) short)
           (setq ,offset (+ ,offset (if (= ,next 44) 8 (<< (+ (load u8 ,ext 1) 1) 3))))
           (setq ,next (if (and (= ,next 44)
                                (/= (logand (ntohs (load u16 ,ext 2)) #xfff8) 0))
                           59
                           (load u8 ,ext 0))))))))

(defun %ipv6-l4-steps (data data-end next offset short)
  "Steps of an Ethernet/IPv6 packet binding NEXT to the upper-layer protocol number and OFFSET
to its header's offset from DATA, past any extension headers."
  `((:short (> (+ ,data ,(+ +eth-hdr-len+ +ipv6-hdr-len+)) ,data-end))
    (:mismatch (/= (eth-type ,data) ,+ethertype-ipv6+))
    (:bind ,next (ipv6-nexthdr (+ ,data ,+eth-hdr-len+)))
    (:bind ,offset ,(+ +eth-hdr-len+ +ipv6-hdr-len+))
    (:do ,(%ipv6-extension-walk data data-end next offset short))))

(defun %any-ip-steps (data data-end l4 protocol short)
  "Steps of an IPv4 or IPv6 packet carrying PROTOCOL, setting L4 to the transport header (or
leaving it 0)."
  (let ((ihl (%fresh "ihl"))
        (type (%fresh "ethertype"))
        (next (%fresh "next"))
        (offset (%fresh "offset")))
    `((:short (> (+ ,data ,+eth-hdr-len+) ,data-end))
      (:bind ,l4 0)
      (:do (let ((,type (eth-type ,data)))
             (cond ((= ,type ,+ethertype-ipv4+)
                    ,(%guard `(> (+ ,data ,(+ +eth-hdr-len+ +ipv4-hdr-len+)) ,data-end) short)
                    (let ((,ihl (ipv4-ihl (+ ,data ,+eth-hdr-len+))))
                      (when (and (>= ,ihl 5)
                                 (= (ipv4-protocol (+ ,data ,+eth-hdr-len+))
                                    ,(%protocol protocol :ipv4)))
                        (setq ,l4 ,(%ipv4-l4-init data ihl)))))
                   ((= ,type ,+ethertype-ipv6+)
                    ,(%guard `(> (+ ,data ,(+ +eth-hdr-len+ +ipv6-hdr-len+)) ,data-end) short)
                    (let ((,next (ipv6-nexthdr (+ ,data ,+eth-hdr-len+)))
                          (,offset ,(+ +eth-hdr-len+ +ipv6-hdr-len+)))
                      ,(%ipv6-extension-walk data data-end next offset short)
                      (when (= ,next ,(%protocol protocol :ipv6))
                        (setq ,l4 (+ ,data ,offset))))))))
      (:mismatch (= ,l4 0)))))

(defun %l4-steps (family data data-end var protocol length short)
  "Steps of a packet whose transport header (PROTOCOL, LENGTH bytes) is bound to VAR. The IP
header is addressed from DATA with constant offsets, so no pointer but VAR is kept."
  (let ((next (%fresh "next"))
        (offset (%fresh "offset"))
        (ihl (%fresh "ihl"))
        (l4 (%fresh "l4")))
    (case family
      (:ipv4 `((:short (> (+ ,data ,(+ +eth-hdr-len+ +ipv4-hdr-len+)) ,data-end))
               (:mismatch (/= (eth-type ,data) ,+ethertype-ipv4+))
               (:bind ,ihl (ipv4-ihl (+ ,data ,+eth-hdr-len+)))
               (:mismatch (< ,ihl 5))
               (:mismatch (/= (ipv4-protocol (+ ,data ,+eth-hdr-len+)) ,(%protocol protocol :ipv4)))
               ,@(%l4-bound-steps var (%ipv4-l4-init data ihl) length data-end)))
      (:ipv6 (append (%ipv6-l4-steps data data-end next offset short)
                     `((:mismatch (/= ,next ,(%protocol protocol :ipv6))))
                     (%l4-bound-steps var `(+ ,data ,offset) length data-end)))
      (:any (append (%any-ip-steps data data-end l4 protocol short)
                    (%l4-bound-steps var l4 length data-end)))
      (t (error "the :family must be :ipv4, :ipv6 or :any, found ~s" family)))))

(defun %with-l4 (macro spec body protocol length fallback)
  "Expands `with-tcp`-like macros: SPEC is (DATA DATA-END VAR &key default family)."
  (%header-var macro spec)
  (destructuring-bind (data data-end var &key default (family :ipv4)) spec
    (unless (member family '(:ipv4 :ipv6 :any))
      (error "~a: :family must be :ipv4, :ipv6 or :any, found ~s" macro family))
    (let ((short (or default fallback)))
      (%with-context data data-end
                     (%l4-steps family data data-end var protocol length short)
                     body short default))))

;;; Statement-style macros, XDP and tc.

(defmacro with-packet ((data data-end &key (min-len 0) (default 'XDP_PASS)) &body body)
  "Binds DATA and DATA-END to the packet's bounds (from the program's context: XDP or tc) and
runs BODY when at least MIN-LEN bytes are present; otherwise returns DEFAULT (XDP_PASS)."
  (%packet-spec 'with-packet (list data data-end))
  (%with-context data data-end `((:short (> (+ ,data ,min-len) ,data-end))) body default nil))

(defmacro with-eth ((data data-end &key (default 'XDP_PASS)) &body body)
  "Like `with-packet`, guaranteeing a whole Ethernet header at DATA."
  (%packet-spec 'with-eth (list data data-end))
  `(with-packet (,data ,data-end :min-len ,+eth-hdr-len+ :default ,default) ,@body))

(defmacro with-ipv4 ((data data-end ip &key default) &body body)
  "Binds IP to the IPv4 header of an Ethernet/IPv4 packet and runs BODY. A packet too short
returns DEFAULT (XDP_PASS); one that is not IPv4 or has an IHL below 5 skips BODY, or returns
DEFAULT when one is given."
  (%header-var 'with-ipv4 (list data data-end ip))
  (%with-context data data-end (%ipv4-steps data data-end ip) body
                 (or default 'XDP_PASS) default))

(defmacro with-ipv6 ((data data-end ip6 &key default) &body body)
  "Binds IP6 to the IPv6 header of an Ethernet/IPv6 packet and runs BODY. A packet too short
returns DEFAULT (XDP_PASS); one that is not IPv6 skips BODY, or returns DEFAULT when given."
  (%header-var 'with-ipv6 (list data data-end ip6))
  (%with-context data data-end (%ipv6-steps data data-end ip6) body
                 (or default 'XDP_PASS) default))

(defmacro with-tcp ((&rest spec) &body body)
  "(with-tcp (DATA DATA-END TCP [:default ACTION] [:family :ipv4|:ipv6|:any]) BODY...)
Binds TCP to the TCP header (20 bytes guaranteed) of a TCP packet over the FAMILY of IP (IPv4
by default; IPv4 options are skipped) and runs BODY. A packet too short returns ACTION
(XDP_PASS); one of another protocol skips BODY, or returns ACTION when one is given."
  (%with-l4 'with-tcp spec body +ip-proto-tcp+ +tcp-hdr-len+ 'XDP_PASS))

(defmacro with-udp ((&rest spec) &body body)
  "(with-udp (DATA DATA-END UDP [:default ACTION] [:family :ipv4|:ipv6|:any]) BODY...)
Binds UDP to the UDP header (8 bytes guaranteed) and runs BODY; too short or of another
protocol: as `with-tcp`."
  (%with-l4 'with-udp spec body +ip-proto-udp+ +udp-hdr-len+ 'XDP_PASS))

(defmacro with-icmp ((&rest spec) &body body)
  "(with-icmp (DATA DATA-END ICMP [:default ACTION] [:family :ipv4|:ipv6|:any]) BODY...)
Binds ICMP to the ICMP header (8 bytes guaranteed: ICMP over IPv4, ICMPv6 over IPv6; the type,
code and checksum fields sit alike) and runs BODY; too short or of another protocol: as
`with-tcp`."
  (%with-l4 'with-icmp spec body (list +ip-proto-icmp+ +ip-proto-ipv6-icmp+) +icmp-hdr-len+
            'XDP_PASS))

(defmacro with-tc-packet ((data data-end &key (min-len 0) (default 'TC_ACT_OK)) &body body)
  "`with-packet` for tc programs: returns DEFAULT (TC_ACT_OK) when the packet is too short."
  `(with-packet (,data ,data-end :min-len ,min-len :default ,default) ,@body))

(defmacro with-tc-eth ((data data-end &key (default 'TC_ACT_OK)) &body body)
  "`with-eth` for tc programs (TC_ACT_OK when too short)."
  `(with-eth (,data ,data-end :default ,default) ,@body))

(defmacro with-tc-ipv4 ((data data-end ip &key default) &body body)
  "`with-ipv4` for tc programs (TC_ACT_OK when too short)."
  (%header-var 'with-tc-ipv4 (list data data-end ip))
  (%with-context data data-end (%ipv4-steps data data-end ip) body
                 (or default 'TC_ACT_OK) default))

(defmacro with-tc-ipv6 ((data data-end ip6 &key default) &body body)
  "`with-ipv6` for tc programs (TC_ACT_OK when too short)."
  (%header-var 'with-tc-ipv6 (list data data-end ip6))
  (%with-context data data-end (%ipv6-steps data data-end ip6) body
                 (or default 'TC_ACT_OK) default))

(defmacro with-tc-tcp ((&rest spec) &body body)
  "`with-tcp` for tc programs (TC_ACT_OK when too short)."
  (%with-l4 'with-tc-tcp spec body +ip-proto-tcp+ +tcp-hdr-len+ 'TC_ACT_OK))

(defmacro with-tc-udp ((&rest spec) &body body)
  "`with-udp` for tc programs (TC_ACT_OK when too short)."
  (%with-l4 'with-tc-udp spec body +ip-proto-udp+ +udp-hdr-len+ 'TC_ACT_OK))

(defmacro with-tc-icmp ((&rest spec) &body body)
  "`with-icmp` for tc programs (TC_ACT_OK when too short)."
  (%with-l4 'with-tc-icmp spec body (list +ip-proto-icmp+ +ip-proto-ipv6-icmp+) +icmp-hdr-len+
            'TC_ACT_OK))

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
